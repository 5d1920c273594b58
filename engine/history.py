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
    timings: dict[str, float] = field(default_factory=dict)  # the turn's latencies, ms (engine.metrics)
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
        """The whole chat for the LLM (engine.context.ContextWindow fits it to a token budget)."""
        return [{"role": "system", "content": system_prompt}, *chat_messages(self._items)]

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


def chat_messages(items: Sequence[Item]) -> list[ChatMessage]:
    """Items as chat messages: heard text only; the note that the user cut in follows the latest
    reply only, if it was cut (told once, not at every later turn); each group of tool calls is
    one assistant message followed at once by a result for each call, wherever its item lies
    (a call without one says why: cancelled, or never finished)."""
    results = {item.call_id: item.output for item in items if isinstance(item, ToolResult)}
    latest_reply = max((i for i, item in enumerate(items) if isinstance(item, AssistantMessage)), default=-1)
    messages: list[ChatMessage] = []
    calls: list[ToolCall] = []
    for index, item in enumerate([*items, None]):
        if isinstance(item, ToolCall):
            calls.append(item)
            continue
        if calls:
            messages.extend(_tool_round(calls, results))
            calls = []
        if isinstance(item, UserMessage):
            messages.append({"role": "user", "content": item.text})
        elif isinstance(item, AssistantMessage) and item.heard_text:
            messages.append({"role": "assistant", "content": item.heard_text})
            if item.status == "interrupted" and index == latest_reply:
                messages.append({"role": "system", "content": INTERRUPTED_NOTE})
    return messages


NO_RESULT = {
    "cancelled": "(cancelled before it finished: it may not have taken effect)",
    "in_progress": "(no result: the call never finished)",
    "failed": "(failed)",
    "completed": "(no output)",
}


def wire_call(call_id: str, name: str, arguments: str) -> ChatToolCall:
    """A tool call as the chat carries it (OpenAI's shape)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_round(calls: list[ToolCall], results: dict[str, str]) -> list[ChatMessage]:
    wire = [wire_call(call.call_id, call.name, call.arguments) for call in calls]
    messages: list[ChatMessage] = [{"role": "assistant", "content": "", "tool_calls": wire}]
    for call in calls:
        output = results.get(call.call_id, NO_RESULT[call.status])
        messages.append({"role": "tool", "content": output, "tool_call_id": call.call_id})
    return messages


def item_to_dict(item: Item) -> dict[str, Any]:
    """A JSON-ready form of an item, with its `type` (for stores and exports)."""
    return {"type": _TYPE_NAMES[type(item)], **dataclasses.asdict(item)}


def item_from_dict(data: dict[str, Any]) -> Item:
    fields = dict(data)
    cls = ITEM_TYPES[fields.pop("type")]
    return cls(**fields)
