"""The wire codec: headers, client message validation, server message shapes."""

from __future__ import annotations

import json
import struct

import pytest

from websocket import events as ev
from websocket import protocol as proto


def test_audio_in_header_is_timestamp_then_flags_little_endian() -> None:
    raw = proto.encode_audio_in(b"\x01\x00" * 240, timestamp_ms=2**32 + 5, flags=proto.FLAG_FIRST_BLOCK | 77)
    assert raw[:8] == struct.pack("<II", 5, (1 << 9) | 77)
    frame = proto.parse_audio(raw, 24000)
    assert frame.timestamp_ms == 5 and frame.first_block and frame.flags & proto.FLAG_ENERGY_MASK == 77
    assert frame.pcm == b"\x01\x00" * 240


def test_audio_out_header_round_trips() -> None:
    raw = proto.encode_audio_out(7, 2**32 + 3, b"\x00\x01" * 10)
    assert raw[:8] == struct.pack("<II", 7, 3)
    assert proto.decode_audio_out(raw) == (7, 3, b"\x00\x01" * 10)


@pytest.mark.parametrize(("rate", "ms"), [(16000, 10), (16000, 100), (24000, 20), (48000, 100)])
def test_frames_of_10_to_100_ms_are_accepted_at_each_rate(rate: int, ms: int) -> None:
    pcm = bytes(rate * ms // 1000 * 2)
    assert proto.parse_audio(proto.encode_audio_in(pcm), rate).pcm == pcm


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "frame_too_short"),
        (b"\x00" * 7, "frame_too_short"),
        (proto.encode_audio_in(b"\x00" * 481), "odd_length"),
        (proto.encode_audio_in(b"\x00" * 4802), "frame_too_long"),
        (proto.encode_audio_in(b"\x00" * 478), "frame_too_short_audio"),
    ],
)
def test_bad_frames_raise_protocol_errors(raw: bytes, code: str) -> None:
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse_audio(raw, 24000)
    assert caught.value.code == code


def test_client_messages_parse_to_typed_messages() -> None:
    assert proto.parse_text('{"type": "start"}', 100) == proto.Start(type="start")
    msg = proto.parse_text('{"type": "text_input", "text": "hi", "extra": 1}', 100)
    assert isinstance(msg, proto.TextInput) and msg.text == "hi"
    msg = proto.parse_text('{"type": "playback", "turn_id": 3, "played_ms": 120.5}', 100)
    assert isinstance(msg, proto.Playback) and (msg.turn_id, msg.played_ms) == (3, 120.5)
    msg = proto.parse_text('{"type": "configure", "voice": "alto"}', 100)
    assert isinstance(msg, proto.Configure) and msg.voice == "alto" and msg.input_sample_rate is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("nope", "bad_json"),
        ('"start"', "bad_json"),
        ('{"type": 5}', "unknown_type"),
        ('{"type": "hello"}', "unknown_type"),
        ('{"type": "text_input", "text": ["a"]}', "bad_field"),
        ('{"type": "playback", "turn_id": 1}', "bad_field"),
        ('{"type": "playback", "turn_id": true, "played_ms": 1}', "bad_field"),
        ('{"type": "configure", "input_sample_rate": 8000}', "unsupported_sample_rate"),
        ('{"type": "configure", "system_prompt": "' + "x" * 101 + '"}', "bad_field"),
    ],
)
def test_bad_client_messages_raise_protocol_errors(raw: str, code: str) -> None:
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse_text(raw, 100)
    assert caught.value.code == code and caught.value.message


def test_every_error_code_raised_is_documented() -> None:
    for code in ("bad_json", "unknown_type", "bad_field", "frame_too_short", "odd_length", "frame_too_long"):
        assert code in proto.ERROR_CODES


def test_server_messages_carry_session_and_turn() -> None:
    wire = proto.to_wire(ev.SpeechStop(4, "barge_in", 1234.56), "abc")
    assert wire == {"type": "tts_stop", "turn_id": 4, "reason": "barge_in", "played_ms": 1234.6, "session_id": "abc"}
    wire = proto.to_wire(ev.Acknowledged("stop", {"queues_cleared": True}), "abc")
    assert wire == {"type": "stop_acknowledged", "queues_cleared": True, "session_id": "abc"}
    wire = proto.to_wire(ev.ErrorEvent("rate_limited", "slow down", 2, 1.5), "abc")
    assert wire["retry_after_s"] == 1.5 and wire["turn_id"] == 2
    json.dumps(proto.to_wire(ev.TurnMetrics(1, {"final_transcript_ms": 1.0}, False), "abc"))
    with pytest.raises(TypeError):
        proto.to_wire(ev.AudioOut(1, 0, b""), "abc")
