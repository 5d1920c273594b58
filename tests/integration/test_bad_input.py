"""Bad input gets error{code, message}, loses nothing, and the session goes on; floods close."""

from __future__ import annotations

import json

import pytest

from tests.client import Client, encode_audio_in
from tests.conftest import StartServer

BAD_TEXT: list[tuple[str | bytes, str]] = [
    ("{not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    (json.dumps({"no": "type"}), "unknown_type"),
    (json.dumps({"type": "dance"}), "unknown_type"),
    (json.dumps({"type": "text_input"}), "bad_field"),
    (json.dumps({"type": "text_input", "text": 42}), "bad_field"),
    (json.dumps({"type": "text_input", "text": ""}), "bad_field"),
    (json.dumps({"type": "text_input", "text": "x" * 5000}), "bad_field"),
    (json.dumps({"type": "playback", "turn_id": "one", "played_ms": 10}), "bad_field"),
    (json.dumps({"type": "playback", "turn_id": 1, "played_ms": -5}), "bad_field"),
    (json.dumps({"type": "configure", "input_sample_rate": 44100}), "unsupported_sample_rate"),
    (json.dumps({"type": "configure", "input_sample_rate": "fast"}), "bad_field"),
]
BAD_BINARY: list[tuple[str | bytes, str]] = [
    (b"\x01\x02\x03", "frame_too_short"),
    (encode_audio_in(bytes(481)), "odd_length"),
    (encode_audio_in(bytes(4802)), "frame_too_long"),  # 100.04 ms at 24 kHz
    (encode_audio_in(bytes(200)), "frame_too_short_audio"),  # 4 ms
    (encode_audio_in(b""), "frame_too_short_audio"),
]


@pytest.mark.parametrize(("raw", "code"), BAD_TEXT + BAD_BINARY)
async def test_bad_message_gets_an_error_and_the_session_continues(
    start_server: StartServer, raw: str | bytes, code: str
) -> None:
    server = await start_server(mock_asr_script="tell me about the ocean")
    client = await Client.connect(server.url)
    await client.ws.send(raw)
    error = await client.wait_for("error")
    assert error["code"] == code and error["message"]
    await client.say("ocean", speed=8)
    assert (await client.wait_for("final_transcript"))["content"] == "tell me about the ocean"
    await client.wait_for("tts_start")
    assert client.of_type("session")[0]["input_sample_rate"] == 24000  # rate unchanged by the bad configure
    await client.close()


async def test_a_flood_of_messages_closes_with_policy_violation(start_server: StartServer) -> None:
    server = await start_server(max_messages_per_s=100)
    client = await Client.connect(server.url)
    frame = encode_audio_in(bytes(480))  # 10 ms of silence
    for _ in range(400):
        await client.ws.send(frame)
    assert await client.wait_closed() == 1008


async def test_a_flood_of_bad_messages_closes_with_policy_violation(start_server: StartServer) -> None:
    server = await start_server(max_errors_per_min=5)
    client = await Client.connect(server.url)
    for _ in range(6):
        await client.ws.send("{bad")
    assert await client.wait_closed() == 1008
    assert len(client.of_type("error")) >= 5


async def test_an_oversized_message_closes_with_message_too_big(start_server: StartServer) -> None:
    server = await start_server(ws_max_message_bytes=64 * 1024)
    client = await Client.connect(server.url)
    await client.ws.send(bytes(200_000))
    assert await client.wait_closed() == 1009
