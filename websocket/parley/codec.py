"""Parley's codec: client frames -> typed messages, server messages -> frames.

Decoding never raises: anything a client can send becomes either a message or a
`Rejected` value with an error code, so the router answers `error{code, message}` and
the session goes on. Audio frames carry an 8-byte little-endian header both ways.
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass

from pydantic import ValidationError

from config import SUPPORTED_INPUT_RATES
from websocket.parley import messages as m

log = logging.getLogger(__name__)
HEADER = struct.Struct("<II")
FLAG_ENERGY_MASK = 0xFF
FLAG_SILENCE = 1 << 8
FLAG_FIRST_BLOCK = 1 << 9
MIN_FRAME_MS = 10
MAX_FRAME_MS = 100
CLIENT_TYPES = frozenset(m.message_type(model) for model in m.CLIENT_MESSAGES)


@dataclass(frozen=True)
class Rejected:
    """Input that is not a valid message: the `error` to answer with."""

    code: str
    message: str


@dataclass(frozen=True)
class AudioFrame:
    timestamp_ms: int
    flags: int
    pcm: bytes

    @property
    def first_block(self) -> bool:
        return bool(self.flags & FLAG_FIRST_BLOCK)


def decode_text(raw: str, max_text_chars: int) -> m.AnyClientMessage | Rejected:
    """A client JSON message, or why it was rejected (never raises: a test feeds it anything)."""
    try:
        return _decode_text(raw, max_text_chars)
    except Exception:  # a parser corner no rule above foresaw: still an answer, never a dropped connection
        log.warning("unreadable client message (%d characters)", len(raw), exc_info=True)
        return Rejected("bad_json", "message could not be read")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python's parser accepts NaN and Infinity; JSON does not


def _decode_text(raw: str, max_text_chars: int) -> m.AnyClientMessage | Rejected:
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # also integers beyond Python's 4300-digit limit
        return Rejected("bad_json", "message is not valid JSON")
    if not isinstance(data, dict):
        return Rejected("bad_json", "message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        return Rejected("unknown_type", f"unknown message type; expected one of {sorted(CLIENT_TYPES)}")
    try:
        message = m.CLIENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or kind
        return Rejected("bad_field", f"{kind}: {where}: {first['msg']}")
    return _check_limits(message, max_text_chars)


def _check_limits(message: m.AnyClientMessage, max_text_chars: int) -> m.AnyClientMessage | Rejected:
    for text in (getattr(message, "text", None), getattr(message, "system_prompt", None)):
        if text is not None and len(text) > max_text_chars:
            return Rejected("bad_field", f"{message.type}: text longer than {max_text_chars} characters")
    rate = getattr(message, "input_sample_rate", None)
    if rate is not None and rate not in SUPPORTED_INPUT_RATES:
        return Rejected("unsupported_sample_rate", f"input_sample_rate {rate} is not one of {SUPPORTED_INPUT_RATES}")
    return message


def decode_audio(raw: bytes, sample_rate: int) -> AudioFrame | Rejected:
    """A client audio frame at `sample_rate`, or why it was rejected."""
    if len(raw) < HEADER.size:
        return Rejected("frame_too_short", f"binary frame of {len(raw)} bytes is shorter than the 8-byte header")
    timestamp, flags = HEADER.unpack_from(raw)
    pcm = raw[HEADER.size :]
    if len(pcm) % 2:
        return Rejected("odd_length", f"PCM16 payload of {len(pcm)} bytes is not a whole number of samples")
    ms = len(pcm) / 2 / sample_rate * 1000
    if ms > MAX_FRAME_MS + 1e-6:
        return Rejected("frame_too_long", f"frame holds {ms:.1f} ms at {sample_rate} Hz; at most {MAX_FRAME_MS}")
    if ms < MIN_FRAME_MS - 1e-6:
        return Rejected(
            "frame_too_short_audio", f"frame holds {ms:.1f} ms at {sample_rate} Hz; at least {MIN_FRAME_MS}"
        )
    return AudioFrame(timestamp, flags, pcm)


def encode(message: m.ServerMessage) -> str:
    return message.model_dump_json(exclude_none=message.omit_none)


def encode_audio_out(turn_id: int, sequence: int, pcm: bytes) -> bytes:
    return HEADER.pack(turn_id, sequence % (1 << 32)) + pcm
