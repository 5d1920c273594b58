"""History items <-> Realtime conversation items (the GA `item` objects).

An item has the same id whichever protocol created it: a Realtime client sees the user
messages, replies and tool calls a Parley client made in the same session, and back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from engine.history import AssistantMessage, Item, ToolCall, ToolResult, UserMessage, new_item_id

ItemDict = dict[str, Any]


def to_wire(item: Item, status: str = "completed") -> ItemDict:
    base: ItemDict = {"id": item.id, "object": "realtime.item", "status": status}
    if isinstance(item, UserMessage):
        part = {"type": "input_text", "text": item.text} if item.source == "text" else {
            "type": "input_audio", "transcript": item.text}  # fmt: skip
        return base | {"type": "message", "role": "user", "content": [part]}
    if isinstance(item, AssistantMessage):
        done = "completed" if item.status == "completed" else "incomplete"
        part = {"type": "output_audio", "transcript": item.heard_text}
        return base | {"type": "message", "role": "assistant", "status": done, "content": [part]}
    if isinstance(item, ToolCall):
        return base | {"type": "function_call", "call_id": item.call_id, "name": item.name,
                       "arguments": item.arguments}  # fmt: skip
    return base | {"type": "function_call_output", "call_id": item.call_id, "output": item.output}


class ItemError(Exception):
    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.message, self.param = message, param


def user_parts(item: dict[str, Any]) -> tuple[str, bytes | None]:
    """The text of a user message's input_text parts, and the audio of its input_audio part."""
    texts, audio = [], None
    for index, part in enumerate(item.get("content") or []):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "input_text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "input_audio" and isinstance(part.get("audio"), str):
            audio = decode_audio(part["audio"], f"item.content[{index}].audio")
        else:
            raise ItemError("a user message takes input_text and input_audio parts", f"item.content[{index}]")
    if not texts and audio is None:
        raise ItemError("a user message needs content", "item.content")
    return " ".join(texts).strip(), audio


def decode_audio(text: str, param: str) -> bytes:
    try:
        pcm = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ItemError("audio must be base64-encoded 16-bit PCM", param) from None
    if len(pcm) % 2:
        raise ItemError("audio must hold whole 16-bit samples", param)
    return pcm


def engine_item(item: dict[str, Any], turn_id: int, text: str, spoken: bool, call_turn: int | None) -> Item:
    """The history item for a client's item (a user message's text, or its transcript when `spoken`,
    already in `text`)."""
    item_id = item.get("id") or new_item_id()
    if not isinstance(item_id, str) or not 1 <= len(item_id) <= 64:
        raise ItemError("item.id must be a string of 1 to 64 characters", "item.id")
    kind, role = item.get("type"), item.get("role")
    if kind == "message" and role == "user":
        return UserMessage(turn_id, text, "speech" if spoken else "text", id=item_id)
    if kind == "message" and role == "assistant":
        said = " ".join(
            str(part.get("text") or part.get("transcript") or "") for part in item.get("content") or []
            if isinstance(part, dict)
        ).strip()  # fmt: skip
        return AssistantMessage(turn_id, said, said, "completed", id=item_id)
    if kind == "function_call_output":
        call_id, output = item.get("call_id"), item.get("output")
        if not isinstance(call_id, str) or not isinstance(output, str):
            raise ItemError("function_call_output needs call_id and output strings", "item.call_id")
        return ToolResult(call_turn if call_turn is not None else turn_id, call_id, output, id=item_id)
    if kind == "function_call":
        name, arguments, call_id = item.get("name"), item.get("arguments", "{}"), item.get("call_id")
        if not all(isinstance(value, str) for value in (name, arguments, call_id)):
            raise ItemError("function_call needs name, arguments and call_id strings", "item")
        return ToolCall(turn_id, str(call_id), str(name), str(arguments), "completed", id=item_id)
    raise ItemError(
        "Parley takes user and assistant messages, function_call and function_call_output items "
        "(instructions belong in session.update)", "item.type",
    )  # fmt: skip


def call_turn(items: Sequence[Item], call_id: str) -> int | None:
    """The turn of the call a result answers, so that the two stay together in the LLM's context."""
    return next((i.turn_id for i in reversed(items) if isinstance(i, ToolCall) and i.call_id == call_id), None)
