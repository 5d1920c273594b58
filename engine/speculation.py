"""A reply started before the user's turn is over, unheard until the turn ends.

At a short silence the Conversation starts the reply on the words so far: the LLM and TTS
run, the audio waits in the paused pacer, the events wait here, and tools wait for the
turn (no side effect of a reply nobody may hear). If the turn ends with the same words on
the same history, the reply is adopted: its events are told and its audio plays at once.
If the user goes on, it is discarded: nothing of it reaches the client or the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from engine import events as ev
from engine.history import History, UserMessage
from engine.metrics import TurnTimer
from engine.options import ReplyRequest
from engine.replies import Replies
from engine.reply import Reply
from engine.reply_factory import ReplyFactory
from engine.utterance import Utterance

log = logging.getLogger(__name__)
HELD_EVENTS = 4096  # a speculative reply past this many events is not adopted (its LLM is blocked long before)


class HeldSink:
    """A reply's events kept in order until it is adopted (then passed on), or dropped."""

    def __init__(self, sink: ev.EventSink) -> None:
        self._sink = sink
        self._held: list[ev.Event] | None = []
        self.overflowed = False

    def emit(self, event: ev.Event) -> None:
        if self._held is None:
            self._sink.emit(event)
        elif len(self._held) < HELD_EVENTS:
            self._held.append(event)
        else:
            self.overflowed = True

    def clear_audio(self, turn_id: int) -> int:
        return 0 if self._held is not None else self._sink.clear_audio(turn_id)

    def release(self, after_first: Callable[[], None]) -> None:
        """Tell the held events (`after_first` runs after the first, the reply's start) and pass on the rest."""
        held, self._held = self._held or [], None
        for index, event in enumerate(held):
            self._sink.emit(event)
            if index == 0:
                after_first()

    def drop(self) -> None:
        self._held, self.overflowed = [], True  # held for ever: nothing more is told


def history_mark(history: History) -> tuple[int, str | None]:
    """What a reply was made on: a later change of the history makes it stale."""
    items = history.items
    return len(items), items[-1].id if items else None


@dataclass
class Speculation:
    user: UserMessage
    reply: Reply
    timer: TurnTimer
    sink: HeldSink
    made_on: tuple[int, str | None]

    def fits(self, user: UserMessage, history: History) -> bool:
        """Whether it answers exactly this turn on the history as it now is."""
        same_turn = (user.turn_id, user.id, user.text) == (self.user.turn_id, self.user.id, self.user.text)
        return same_turn and history_mark(history) == self.made_on and not self.sink.overflowed and not self.reply.done


class Speculations:
    """The conversation's speculative reply, if any: at most one, owned here until adopted."""

    def __init__(
        self, replies: Replies, make: ReplyFactory, history: History, sink: ev.EventSink,
        speech_end_at: Callable[[], float],
    ) -> None:  # fmt: skip
        self._replies, self._make, self._history, self._sink = replies, make, history, sink
        self._speech_end_at = speech_end_at
        self._current: Speculation | None = None
        self.started = self.adopted = self.discarded = 0

    def start(self, utterance: Utterance, text: str, request: ReplyRequest) -> None:
        """Start the reply to `text`, the words of `utterance` so far, held until the turn ends."""
        self.discard()
        user = UserMessage(utterance.turn_id, text, "speech", id=utterance.item_id)
        timer = TurnTimer(origin=self._speech_end_at())
        timer.mark("final_transcript_ms")
        made_on, held = history_mark(self._history), HeldSink(self._sink)
        reply = self._make.build(utterance.turn_id, timer, request, held, user)
        self._current = Speculation(user, reply, timer, held, made_on)
        self.started += 1
        reply.start()

    def take(self, user: UserMessage) -> Speculation | None:
        """The speculation that answers `user` (call before `user` joins the history); any other is discarded."""
        speculation = self._current
        if speculation is not None and speculation.fits(user, self._history):
            self._current = None
            return speculation
        self.discard()
        return None

    def adopt(self, speculation: Speculation | None, set_state: Callable[[], None]) -> None:
        """The turn is answered by its speculation: its events are told, its audio plays."""
        if speculation is None:
            return
        self.adopted += 1
        self._replies.adopt(speculation.reply)
        speculation.sink.release(set_state)
        speculation.reply.adopt()
        log.info("turn %d: the speculative reply is adopted", speculation.user.turn_id)

    def discard(self, taken: Speculation | None = None) -> None:
        """Discard the speculation held (or one taken and not adopted)."""
        speculation = taken
        if speculation is None:
            speculation, self._current = self._current, None
        if speculation is None or speculation.reply is self._replies.current:
            return
        self.discarded += 1
        speculation.sink.drop()
        speculation.reply.discard()
        self._replies.retire(speculation.reply)
        log.info("turn %d: the user went on; the speculative reply is discarded", speculation.user.turn_id)
