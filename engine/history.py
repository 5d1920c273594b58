"""Conversation history as typed items with stable ids, changed only through explicit operations.

Items are immutable; an operation replaces one and tells every follower (a session store,
a second protocol) exactly what changed, so they never diff a list edited in place.
An assistant message keeps both what was generated and what the user heard: a reply cut
by the user is truncated to the words played, and a late `playback` ack revises it.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.events import TranscriptSource
from services.base import ChatMessage, ChatToolCall

log = logging.getLogger(__name__)

AssistantStatus = Literal["completed", "interrupted", "failed"]
ToolCallStatus = Literal["in_progress", "completed", "cancelled", "failed"]
HistoryOp = Literal["append", "revise", "truncate", "delete", "clear"]
INTERRUPTED_NOTE = "The user interrupted the previous reply; they heard only the part above."


def new_item_id() -> str:
    return f"item_{secrets.token_hex(10)}"


@dataclass(frozen=True)
class UserMessage:
    turn_id: int
    text: str
    source: TranscriptSource
    id: str = field(default_factory=new_item_id)
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class AssistantMessage:
    turn_id: int
    text: str  # everything the LLM generated for the reply
    heard_text: str  # what the user heard of it (all of it when completed)
    status: AssistantStatus
    audio_ms: float = 0.0  # reply audio the user played
    id: str = field(default_factory=new_item_id)
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ToolCall:
    turn_id: int
    call_id: str
    name: str
    arguments: str  # JSON text, as the LLM wrote it
    status: ToolCallStatus
    id: str = field(default_factory=new_item_id)
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ToolResult:
    turn_id: int
    call_id: str
    output: str
    id: str = field(default_factory=new_item_id)
    created_at: float = field(default_factory=time.time)


Item = UserMessage | AssistantMessage | ToolCall | ToolResult
ITEM_TYPES: dict[str, type[Item]] = {
    "user_message": UserMessage,
    "assistant_message": AssistantMessage,
    "tool_call": ToolCall,
    "tool_result": ToolResult,
}
_TYPE_NAMES = {cls: name for name, cls in ITEM_TYPES.items()}


@dataclass(frozen=True)
class HistoryChange:
    """One operation: the item as it is after it (None for delete and clear)."""

    op: HistoryOp
    item_id: str | None
    item: Item | None


HistoryFollower = Callable[[HistoryChange], None]


class History:
    """The items of one conversation, oldest first, at most `max_items` of them."""

    def __init__(self, max_items: int, items: Iterable[Item] = ()) -> None:
        self.max_items = max_items
        self._items: list[Item] = list(items)
        self._followers: list[HistoryFollower] = []

    @property
    def items(self) -> Sequence[Item]:
        return tuple(self._items)

    def get(self, item_id: str) -> Item | None:
        return next((item for item in self._items if item.id == item_id), None)

    def follow(self, follower: HistoryFollower) -> Callable[[], None]:
        """Call `follower` after every operation; returns the function that stops it."""
        self._followers.append(follower)
        return lambda: self._followers.remove(follower) if follower in self._followers else None

    def append(self, item: Item) -> Item:
        self._items.append(item)
        self._tell(HistoryChange("append", item.id, item))
        while len(self._items) > self.max_items:
            self.delete(self._items[0].id)
        return item

    def revise(self, item_id: str, **changes: Any) -> Item:
        return self._replace("revise", item_id, changes)

    def truncate(self, item_id: str, heard_text: str, audio_ms: float) -> Item:
        """Cut an assistant message to what was heard up to `audio_ms` of its audio."""
        item = self.get(item_id)
        if not isinstance(item, AssistantMessage):
            raise KeyError(f"no assistant message {item_id}")
        status = item.status if item.status == "failed" else "interrupted"
        return self._replace("truncate", item_id, {"heard_text": heard_text, "audio_ms": audio_ms, "status": status})

    def delete(self, item_id: str) -> None:
        before = len(self._items)
        self._items = [item for item in self._items if item.id != item_id]
        if len(self._items) != before:
            self._tell(HistoryChange("delete", item_id, None))

    def clear(self) -> None:
        self._items.clear()
        self._tell(HistoryChange("clear", None, None))

    def llm_messages(self, system_prompt: str) -> list[ChatMessage]:
        """The chat for the LLM: heard text only; a cut reply is followed by a note saying so."""
        messages: list[ChatMessage] = [{"role": "system", "content": system_prompt}]
        for item in self._items:
            messages.extend(_as_chat(item))
        return messages

    def _replace(self, op: HistoryOp, item_id: str, changes: dict[str, Any]) -> Item:
        for index, item in enumerate(self._items):
            if item.id == item_id:
                revised = dataclasses.replace(item, **changes)
                self._items[index] = revised
                self._tell(HistoryChange(op, item_id, revised))
                return revised
        raise KeyError(f"no item {item_id}")

    def _tell(self, change: HistoryChange) -> None:
        for follower in list(self._followers):
            try:
                follower(change)
            except Exception:
                log.exception("a history follower failed on %s", change.op)


def _as_chat(item: Item) -> list[ChatMessage]:
    match item:
        case UserMessage(text=text):
            return [{"role": "user", "content": text}]
        case AssistantMessage(heard_text=heard, status=status):
            if not heard:
                return []
            messages: list[ChatMessage] = [{"role": "assistant", "content": heard}]
            if status == "interrupted":
                messages.append({"role": "system", "content": INTERRUPTED_NOTE})
            return messages
        case ToolCall(call_id=call_id, name=name, arguments=arguments):
            call: ChatToolCall = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            return [{"role": "assistant", "content": "", "tool_calls": [call]}]
        case ToolResult(call_id=call_id, output=output):
            return [{"role": "tool", "content": output, "tool_call_id": call_id}]
    return []


def item_to_dict(item: Item) -> dict[str, Any]:
    """A JSON-ready form of an item, with its `type` (for stores and exports)."""
    return {"type": _TYPE_NAMES[type(item)], **dataclasses.asdict(item)}


def item_from_dict(data: dict[str, Any]) -> Item:
    fields = dict(data)
    cls = ITEM_TYPES[fields.pop("type")]
    return cls(**fields)
