"""The replies of one conversation: the current one, the last one (late playback acks still
revise what was heard of it), and those that ended but whose tasks are not yet joined."""

from __future__ import annotations

from collections import OrderedDict

from engine import events as ev
from engine.reply import Reply

RECENT_REPLIES = 16  # replies whose audio timeline is kept, for truncation by a client


class Replies:
    def __init__(self, join_timeout_s: float) -> None:
        self.current: Reply | None = None
        self.last: Reply | None = None
        self._retired: set[Reply] = set()
        self._join_timeout_s = join_timeout_s
        self._recent: OrderedDict[str, Reply] = OrderedDict()  # by assistant item id

    def start(self, reply: Reply) -> None:
        self.current = reply
        reply.start()

    def adopt(self, reply: Reply) -> None:
        """A reply started unheard (speculation) becomes the current one."""
        self.current = reply

    def retire(self, reply: Reply) -> None:
        """A reply that never became current (a discarded speculation): its tasks are joined at settle."""
        self._retired.add(reply)

    def stop(self, reason: ev.StopReason, speech_onset_at: float | None = None) -> int | None:
        """Cut the current reply; its turn id, or None when nothing was replying."""
        reply = self.current
        if reply is None:
            return None
        reply.stop(reason, speech_onset_at)
        return reply.turn_id

    def ended(self, reply: Reply) -> bool:
        """A reply has ended (completed, cut or failed); True if it was the current one."""
        self._retired.add(reply)
        self._recent[reply.item_id] = reply
        while len(self._recent) > RECENT_REPLIES:
            self._recent.popitem(last=False)
        if reply is not self.current:
            return False
        self.current, self.last = None, reply
        return True

    def playback(self, turn_id: int, played_ms: float) -> None:
        for reply in (self.current, self.last):
            if reply is not None and reply.turn_id == turn_id:
                reply.on_playback(played_ms)
                return

    def by_item(self, item_id: str) -> Reply | None:
        """The reply whose assistant message is `item_id`, if it is recent."""
        current = self.current
        return current if current is not None and current.item_id == item_id else self._recent.get(item_id)

    def forget_last(self) -> None:
        self.last = None

    async def settle(self) -> None:
        """Join, bounded, the tasks of replies that have ended."""
        while self._retired:
            await self._retired.pop().wait_closed(self._join_timeout_s)
