"""Parley's wire protocol (PROTOCOL.md): parsing client messages, encoding server ones.

Parsing never raises: bad input becomes a ProtocolError with an error code, so the
handler can answer `error{code, message}` and keep the session.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError

from config import SUPPORTED_INPUT_RATES
from websocket import events as ev

PROTOCOL_VERSION = "1.0"
HEADER = struct.Struct("<II")
FLAG_ENERGY_MASK = 0xFF
FLAG_SILENCE = 1 << 8
FLAG_FIRST_BLOCK = 1 << 9
MIN_FRAME_MS = 10
MAX_FRAME_MS = 100

ERROR_CODES = {
    "bad_json": "a text message is not a JSON object",
    "unknown_type": "the message type is not one this protocol defines",
    "bad_field": "a field is missing, of the wrong type or out of range",
    "frame_too_short": "a binary frame is shorter than its 8-byte header",
    "odd_length": "a binary frame's PCM16 payload has an odd number of bytes",
    "frame_too_long": "a binary frame holds more than 100 ms of audio",
    "frame_too_short_audio": "a binary frame holds less than 10 ms of audio",
    "unsupported_sample_rate": "configure asked for a rate other than 16000, 24000 or 48000",
    "not_listening": "audio or text arrived while stopped; send start first",
    "provider_failed": "the ASR, LLM or TTS provider failed; the turn ended",
    "provider_timeout": "a provider did not answer in time; the turn ended",
    "rate_limited": "a provider refused for rate limiting; the turn ended",
    "server_busy": "the server cannot take more sessions now",
}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Start(_Message):
    type: Literal["start"]


class Stop(_Message):
    type: Literal["stop"]


class Reset(_Message):
    type: Literal["reset"]


class Interrupt(_Message):
    type: Literal["interrupt"]


class TextInput(_Message):
    type: Literal["text_input"]
    text: StrictStr = Field(min_length=1)


class Configure(_Message):
    type: Literal["configure"]
    input_sample_rate: StrictInt | None = None
    language: StrictStr | None = Field(None, min_length=1, max_length=35)
    system_prompt: StrictStr | None = None
    voice: StrictStr | None = Field(None, max_length=200)


class Playback(_Message):
    type: Literal["playback"]
    turn_id: StrictInt = Field(ge=0, lt=1 << 32)
    played_ms: float = Field(ge=0)


ClientMessage = Start | Stop | Reset | Interrupt | TextInput | Configure | Playback
_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(Annotated[ClientMessage, Field(discriminator="type")])
CLIENT_MESSAGE_TYPES = ("start", "stop", "reset", "interrupt", "text_input", "configure", "playback")


def parse_text(raw: str, max_text_chars: int) -> ClientMessage:
    """A client JSON message, or ProtocolError."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError("bad_json", "message is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_MESSAGE_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}; expected one of {CLIENT_MESSAGE_TYPES}")
    try:
        message = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or kind
        raise ProtocolError("bad_field", f"{kind}: {where}: {first['msg']}") from None
    for text in (getattr(message, "text", None), getattr(message, "system_prompt", None)):
        if text is not None and len(text) > max_text_chars:
            raise ProtocolError("bad_field", f"{kind}: text longer than {max_text_chars} characters")
    rate = getattr(message, "input_sample_rate", None)
    if rate is not None and rate not in SUPPORTED_INPUT_RATES:
        raise ProtocolError(
            "unsupported_sample_rate", f"input_sample_rate {rate} is not one of {SUPPORTED_INPUT_RATES}"
        )
    return message


@dataclass(frozen=True)
class AudioFrame:
    timestamp_ms: int
    flags: int
    pcm: bytes

    @property
    def first_block(self) -> bool:
        return bool(self.flags & FLAG_FIRST_BLOCK)


def parse_audio(raw: bytes, sample_rate: int) -> AudioFrame:
    """A client audio frame at `sample_rate`, or ProtocolError."""
    if len(raw) < HEADER.size:
        raise ProtocolError("frame_too_short", f"binary frame of {len(raw)} bytes is shorter than the 8-byte header")
    timestamp, flags = HEADER.unpack_from(raw)
    pcm = raw[HEADER.size :]
    if len(pcm) % 2:
        raise ProtocolError("odd_length", f"PCM16 payload of {len(pcm)} bytes is not a whole number of samples")
    ms = len(pcm) / 2 / sample_rate * 1000
    if ms > MAX_FRAME_MS + 1e-6:
        raise ProtocolError("frame_too_long", f"frame holds {ms:.1f} ms at {sample_rate} Hz; at most {MAX_FRAME_MS}")
    if ms < MIN_FRAME_MS - 1e-6:
        raise ProtocolError(
            "frame_too_short_audio", f"frame holds {ms:.1f} ms at {sample_rate} Hz; at least {MIN_FRAME_MS}"
        )
    return AudioFrame(timestamp, flags, pcm)


def encode_audio_in(pcm: bytes, timestamp_ms: int = 0, flags: int = 0) -> bytes:
    """A client audio frame (for clients and tests)."""
    return HEADER.pack(timestamp_ms % (1 << 32), flags) + pcm


def encode_audio_out(turn_id: int, sequence: int, pcm: bytes) -> bytes:
    return HEADER.pack(turn_id, sequence % (1 << 32)) + pcm


def decode_audio_out(raw: bytes) -> tuple[int, int, bytes]:
    turn_id, sequence = HEADER.unpack_from(raw)
    return turn_id, sequence, raw[HEADER.size :]


def to_wire(event: ev.Event, session_id: str) -> dict[str, object]:
    """The JSON object for a non-audio event."""
    body: dict[str, object]
    match event:
        case ev.SessionInfo(resumed, history_messages, input_rate, output_rate):
            body = {"type": "session", "protocol_version": PROTOCOL_VERSION, "resumed": resumed}
            body.update(history_messages=history_messages, input_sample_rate=input_rate)
            body["output_sample_rate"] = output_rate
        case ev.StateChanged(state):
            body = {"type": "status", "state": state}
        case ev.Transcript(turn_id, text, final, source):
            kind = "final_transcript" if final else "partial_transcript"
            body = {"type": kind, "turn_id": turn_id, "content": text, "source": source}
        case ev.LlmStatus(turn_id, status):
            body = {"type": "llm_status", "turn_id": turn_id, "status": status}
        case ev.LlmText(turn_id, delta, content, complete):
            body = {"type": "llm_response", "turn_id": turn_id, "delta": delta, "content": content}
            body["is_complete"] = complete
        case ev.SpeechStart(turn_id, rate, text, index, offset):
            body = {"type": "tts_start", "turn_id": turn_id, "sample_rate": rate, "format": "pcm16", "text": text}
            body.update(sentence_index=index, offset_ms=round(offset, 1))
        case ev.SpeechEnd(turn_id, audio_ms):
            body = {"type": "tts_end", "turn_id": turn_id, "audio_ms": round(audio_ms, 1)}
        case ev.SpeechStop(turn_id, reason, played_ms):
            body = {"type": "tts_stop", "turn_id": turn_id, "reason": reason, "played_ms": round(played_ms, 1)}
        case ev.Acknowledged(kind, details):
            body = {"type": f"{kind}_acknowledged", **details}
        case ev.Configured(values):
            body = {"type": "configured", **values}
        case ev.ErrorEvent(code, message, turn_id, retry_after_s):
            body = {"type": "error", "code": code, "message": message}
            if turn_id is not None:
                body["turn_id"] = turn_id
            if retry_after_s is not None:
                body["retry_after_s"] = retry_after_s
        case ev.TurnMetrics(turn_id, values, interrupted):
            body = {"type": "metrics", "turn_id": turn_id, "interrupted": interrupted, **values}
        case _:
            raise TypeError(f"{type(event).__name__} has no JSON form")
    body["session_id"] = session_id
    return body


SERVER_MESSAGE_TYPES = (
    "session",
    "status",
    "partial_transcript",
    "final_transcript",
    "llm_status",
    "llm_response",
    "tts_start",
    "tts_end",
    "tts_stop",
    "interrupt_acknowledged",
    "stop_acknowledged",
    "reset_acknowledged",
    "configured",
    "error",
    "metrics",
)
