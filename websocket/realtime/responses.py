"""One Realtime response as the client sees it: engine reply events -> the GA response events,
in the documented order, with every `*.added` closed by its `*.done` before `response.done`,
and nothing of the response after it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine import events as ev

Json = dict[str, Any]
Send = Callable[[dict[str, Any], int | None], None]  # (event, audio of turn) -> queued


@dataclass
class ResponseState:
    turn_id: int
    response_id: str
    item_id: str
    speak: bool
    metadata: dict[str, str] | None
    voice: str
    max_output_tokens: int | str
    message_open: bool = False
    message_index: int = 0  # the message's output_index, given when it opens
    text: str = ""  # output text, or the transcript of the audio sent
    items: dict[int, Json] = field(default_factory=dict)  # finished output items by output_index
    indexes: int = 0  # output indexes given out

    @property
    def output(self) -> list[Json]:
        return [self.items[index] for index in sorted(self.items)]

    def next_index(self) -> int:
        self.indexes += 1
        return self.indexes - 1

    error: ev.ErrorEvent | None = None

    def wire(self, status: str, details: Json | None = None, usage: Json | None = None) -> Json:
        return {
            "id": self.response_id, "object": "realtime.response", "status": status, "status_details": details,
            "output": self.output, "output_modalities": ["audio" if self.speak else "text"],
            "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": self.voice}},
            "max_output_tokens": self.max_output_tokens, "metadata": self.metadata, "conversation_id": None,
            "usage": usage,
        }  # fmt: skip


class ResponseEvents:
    """The events of the response in progress, built from engine events."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.current: ResponseState | None = None

    def started(self, state: ResponseState) -> None:
        self.current = state
        self._send({"type": "response.created", "response": state.wire("in_progress")}, None)

    def text(self, event: ev.LlmText) -> None:
        state = self._of(event.turn_id)
        if state is None or state.speak or not event.delta:
            return
        self._open_message(state)
        state.text += event.delta
        self._send(self._part_event(state, "response.output_text.delta") | {"delta": event.delta}, None)

    def sentence(self, event: ev.SpeechStart) -> None:
        state = self._of(event.turn_id)
        if state is None:
            return
        self._open_message(state)
        delta = event.text if not state.text else " " + event.text
        state.text += delta
        self._send(self._part_event(state, "response.output_audio_transcript.delta") | {"delta": delta}, None)

    def audio(self, event: ev.AudioOut, pcm: bytes) -> None:
        state = self._of(event.turn_id)
        if state is None:
            return
        self._open_message(state)
        delta = base64.b64encode(pcm).decode("ascii")
        self._send(self._part_event(state, "response.output_audio.delta") | {"delta": delta}, event.turn_id)

    def tool_call(self, event: ev.ClientToolCall) -> None:
        state = self._of(event.turn_id)
        if state is None:
            return
        item = {"id": event.item_id, "object": "realtime.item", "type": "function_call", "status": "in_progress",
                "call_id": event.call_id, "name": event.name, "arguments": ""}  # fmt: skip
        index = state.next_index()
        at = {"response_id": state.response_id, "output_index": index}
        self._send({"type": "response.output_item.added", **at, "item": item}, None)
        self._send({"type": "conversation.item.added", "item": item}, None)
        call = {**at, "item_id": event.item_id, "call_id": event.call_id}
        self._send({"type": "response.function_call_arguments.delta", **call, "delta": event.arguments}, None)
        self._send({"type": "response.function_call_arguments.done", **call, "name": event.name,
                    "arguments": event.arguments}, None)  # fmt: skip
        done = item | {"status": "completed", "arguments": event.arguments}
        state.items[index] = done
        self._send({"type": "response.output_item.done", **at, "item": done}, None)
        self._send({"type": "conversation.item.done", "item": done}, None)

    def failed(self, event: ev.ErrorEvent) -> bool:
        """Keep a provider's failure for the response's status; False if no response is running."""
        state = self._of(event.turn_id) if event.turn_id is not None else None
        if state is None:
            return False
        state.error = state.error or event
        return True

    def ended(self, event: ev.ReplyEnded) -> None:
        state = self._of(event.turn_id)
        if state is None:
            return
        self._close_message(state, complete=event.outcome == "completed" and event.incomplete is None)
        status, details = self._status(state, event)
        usage = None
        if event.input_tokens is not None or event.output_tokens is not None:
            tokens_in, tokens_out = event.input_tokens or 0, event.output_tokens or 0
            usage = {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": tokens_in + tokens_out}
        self._send({"type": "response.done", "response": state.wire(status, details, usage)}, None)
        self.current = None

    def _status(self, state: ResponseState, event: ev.ReplyEnded) -> tuple[str, dict[str, Any] | None]:
        if event.outcome == "completed":
            if event.incomplete is not None:
                return "incomplete", {"type": "incomplete", "reason": event.incomplete}
            return "completed", {"type": "completed"}
        if event.outcome == "failed" or event.reason == "error":
            error = state.error
            failure = {"type": "server_error", "code": error.code if error else "internal_error",
                       "message": error.message if error else "the response failed"}  # fmt: skip
            return "failed", {"type": "failed", "error": failure}
        reason = "turn_detected" if event.reason == "barge_in" else "client_cancelled"
        return "cancelled", {"type": "cancelled", "reason": reason}

    def _of(self, turn_id: int) -> ResponseState | None:
        state = self.current
        return state if state is not None and state.turn_id == turn_id else None

    def _part_event(self, state: ResponseState, kind: str) -> dict[str, Any]:
        return {"type": kind, "response_id": state.response_id, "item_id": state.item_id,
                "output_index": state.message_index, "content_index": 0}  # fmt: skip

    def _open_message(self, state: ResponseState) -> None:
        if state.message_open:
            return
        state.message_open, state.message_index = True, state.next_index()
        item = {"id": state.item_id, "object": "realtime.item", "type": "message", "role": "assistant",
                "status": "in_progress", "content": []}  # fmt: skip
        at = {"response_id": state.response_id, "output_index": state.message_index}
        self._send({"type": "response.output_item.added", **at, "item": item}, None)
        self._send({"type": "conversation.item.added", "item": item}, None)
        part = {"type": "audio", "transcript": ""} if state.speak else {"type": "text", "text": ""}
        self._send(self._part_event(state, "response.content_part.added") | {"part": part}, None)

    def _close_message(self, state: ResponseState, complete: bool) -> None:
        if not state.message_open:
            return
        state.message_open = False
        if state.speak:
            self._send(self._part_event(state, "response.output_audio.done"), None)
            self._send(self._part_event(state, "response.output_audio_transcript.done") | {
                "transcript": state.text}, None)  # fmt: skip
            part, content = {"type": "audio", "transcript": state.text}, {"type": "output_audio",
                                                                           "transcript": state.text}  # fmt: skip
        else:
            self._send(self._part_event(state, "response.output_text.done") | {"text": state.text}, None)
            part, content = {"type": "text", "text": state.text}, {"type": "output_text", "text": state.text}
        self._send(self._part_event(state, "response.content_part.done") | {"part": part}, None)
        item = {"id": state.item_id, "object": "realtime.item", "type": "message", "role": "assistant",
                "status": "completed" if complete else "incomplete", "content": [content]}  # fmt: skip
        at = {"response_id": state.response_id, "output_index": state.message_index}
        state.items[state.message_index] = item
        self._send({"type": "response.output_item.done", **at, "item": item}, None)
        self._send({"type": "conversation.item.done", "item": item}, None)
