"""Parley's codec: headers, client message validation (never raising), server message shapes."""

from __future__ import annotations

import json
import struct

import pytest

from tests.client import encode_audio_in
from websocket.parley import codec, messages as m


def test_audio_in_header_is_timestamp_then_flags_little_endian() -> None:
    raw = encode_audio_in(b"\x01\x00" * 240, timestamp_ms=2**32 + 5, flags=codec.FLAG_FIRST_BLOCK | 77)
    assert raw[:8] == struct.pack("<II", 5, (1 << 9) | 77)
    frame = codec.decode_audio(raw, 24000)
    assert isinstance(frame, codec.AudioFrame)
    assert frame.timestamp_ms == 5 and frame.first_block and frame.flags & codec.FLAG_ENERGY_MASK == 77
    assert frame.pcm == b"\x01\x00" * 240


def test_audio_out_header_is_turn_then_sequence() -> None:
    from clients.python.parley_client import decode_audio_out

    raw = codec.encode_audio_out(7, 2**32 + 3, b"\x00\x01" * 10)
    assert raw[:8] == struct.pack("<II", 7, 3)
    assert decode_audio_out(raw) == (7, 3, b"\x00\x01" * 10)


@pytest.mark.parametrize(("rate", "ms"), [(16000, 10), (16000, 100), (24000, 20), (48000, 100)])
def test_frames_of_10_to_100_ms_are_accepted_at_each_rate(rate: int, ms: int) -> None:
    pcm = bytes(rate * ms // 1000 * 2)
    frame = codec.decode_audio(encode_audio_in(pcm), rate)
    assert isinstance(frame, codec.AudioFrame) and frame.pcm == pcm


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "frame_too_short"),
        (b"\x00" * 7, "frame_too_short"),
        (encode_audio_in(b"\x00" * 481), "odd_length"),
        (encode_audio_in(b"\x00" * 4802), "frame_too_long"),
        (encode_audio_in(b"\x00" * 478), "frame_too_short_audio"),
    ],
)
def test_bad_frames_are_rejected_with_their_code(raw: bytes, code: str) -> None:
    rejected = codec.decode_audio(raw, 24000)
    assert isinstance(rejected, codec.Rejected) and rejected.code == code


def test_client_messages_decode_to_typed_messages() -> None:
    assert codec.decode_text('{"type": "start"}', 100) == m.Start(type="start")
    msg = codec.decode_text('{"type": "text_input", "text": "hi", "extra": 1}', 100)
    assert isinstance(msg, m.TextInput) and msg.text == "hi"
    msg = codec.decode_text('{"type": "playback", "turn_id": 3, "played_ms": 120.5}', 100)
    assert isinstance(msg, m.Playback) and (msg.turn_id, msg.played_ms) == (3, 120.5)
    msg = codec.decode_text('{"type": "configure", "voice": "alto"}', 100)
    assert isinstance(msg, m.Configure) and msg.voice == "alto" and msg.input_sample_rate is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("nope", "bad_json"),
        ('"start"', "bad_json"),
        ("1" * 5000, "bad_json"),  # an integer past Python's digit limit
        ('{"type": 5}', "unknown_type"),
        ('{"type": "hello"}', "unknown_type"),
        ('{"type": "text_input", "text": ["a"]}', "bad_field"),
        ('{"type": "playback", "turn_id": 1}', "bad_field"),
        ('{"type": "playback", "turn_id": true, "played_ms": 1}', "bad_field"),
        ('{"type": "configure", "input_sample_rate": 8000}', "unsupported_sample_rate"),
        ('{"type": "configure", "system_prompt": "' + "x" * 101 + '"}', "bad_field"),
    ],
)
def test_bad_client_messages_are_rejected_never_raised(raw: str, code: str) -> None:
    rejected = codec.decode_text(raw, 100)
    assert isinstance(rejected, codec.Rejected) and rejected.code == code and rejected.message
    assert rejected.code in m.ERROR_CODES


def test_an_unknown_type_is_not_echoed_back() -> None:
    rejected = codec.decode_text(json.dumps({"type": "x" * 10_000}), 100)
    assert isinstance(rejected, codec.Rejected) and len(rejected.message) < 300


def test_server_messages_encode_with_session_and_turn() -> None:
    wire = json.loads(codec.encode(m.TtsStop(session_id="abc", turn_id=4, reason="barge_in", played_ms=1234.6)))
    assert wire == {"type": "tts_stop", "turn_id": 4, "reason": "barge_in", "played_ms": 1234.6, "session_id": "abc"}
    wire = json.loads(codec.encode(m.StopAcknowledged(session_id="abc", turn_id=None, queues_cleared=True)))
    assert wire == {"type": "stop_acknowledged", "turn_id": None, "queues_cleared": True, "session_id": "abc"}
    wire = json.loads(codec.encode(m.Error(session_id="abc", code="rate_limited", message="slow", retry_after_s=1.5)))
    assert wire == {
        "type": "error",
        "code": "rate_limited",
        "message": "slow",
        "retry_after_s": 1.5,
        "session_id": "abc",
    }
