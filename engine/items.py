"""Item commands a protocol offers its client: add an item without replying, delete one, and
truncate an assistant message to the audio the client played.

Truncation maps the played milliseconds to words with the reply's audio timeline (the TTS's
word timings where it gives them), so history keeps the words heard, not the whole reply
and not nothing.
"""

from __future__ import annotations

from engine.history import AssistantMessage, History, Item
from engine.replies import Replies


class ItemRefused(Exception):
    """An item command that cannot be done; `code` and `param` are for the client."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


class Items:
    def __init__(self, history: History, replies: Replies) -> None:
        self._history = history
        self._replies = replies

    def get(self, item_id: str) -> Item:
        item = self._history.get(item_id)
        if item is None:
            raise ItemRefused("item_not_found", f"Item with item_id '{item_id}' not found", "item_id")
        return item

    def add(self, item: Item, after: str | None = None) -> Item:
        """Append `item`; `after` must name the last item (history is only ever appended to)."""
        items = self._history.items
        if after is not None and (not items or items[-1].id != after):
            self.get(after)  # unknown: item_not_found
            raise ItemRefused("invalid_value", "items can only be added after the last item", "previous_item_id")
        if self._history.get(item.id) is not None:
            raise ItemRefused("invalid_value", f"an item with id '{item.id}' already exists", "item.id")
        return self._history.append(item)

    def delete(self, item_id: str) -> None:
        self.get(item_id)
        self._history.delete(item_id)

    def truncate(self, item_id: str, audio_end_ms: float) -> AssistantMessage:
        """Keep the words of an assistant message heard in its first `audio_end_ms` of audio; a
        reply still running is cut first (the client has stopped playing it)."""
        reply = self._replies.by_item(item_id)
        if reply is not None and reply is self._replies.current:
            self._replies.stop("interrupt")  # its message enters history as it stops
        item = self.get(item_id)
        if not isinstance(item, AssistantMessage):
            raise ItemRefused("invalid_value", "Only model output audio messages can be truncated", "item_id")
        audio_ms = reply.pacer.sent_ms if reply is not None else item.audio_ms
        if audio_end_ms > audio_ms + 0.5:
            raise ItemRefused(
                "invalid_value", f"Audio content of {audio_ms:.0f}ms is already shorter than {audio_end_ms:.0f}ms",
                "audio_end_ms",
            )  # fmt: skip
        if reply is not None:
            heard = reply.timeline.heard_text(audio_end_ms)
        else:  # from an earlier connection: its timeline is gone; share the audio over the words
            words = item.heard_text.split()
            heard = " ".join(words[: int(len(words) * audio_end_ms / audio_ms)] if audio_ms else [])
        revised = self._history.truncate(item_id, heard, audio_end_ms)
        assert isinstance(revised, AssistantMessage)
        return revised
