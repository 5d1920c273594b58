"""Noise through the real WebSocket: it opens no turn and does not cut the bot off."""

from __future__ import annotations

import asyncio

from tests.client import Client
from tests.conftest import StartServer
from tests.history_rows import history_rows
from tests.unit.test_speech_gate import pcm, white_noise


def noise_24k(dbfs: float, seconds: float) -> bytes:
    return pcm(white_noise(dbfs, seconds * 1.5, seed=int(-dbfs))[: int(24000 * seconds)])


async def test_loud_noise_opens_no_turn(start_server: StartServer) -> None:
    server = await start_server()
    client = await Client.connect(server.url)
    for dbfs in (-35, -20, -10):
        await client.send_audio(noise_24k(dbfs, 2.0), speed=4.0)
    await client.send("text_input", text="still there?")  # the session still answers
    await client.wait_for("tts_end")
    assert client.of_type("partial_transcript") == []
    assert [e["content"] for e in client.of_type("final_transcript")] == ["still there?"]
    await client.close()


async def test_noise_while_the_bot_speaks_does_not_cut_it_off(start_server: StartServer) -> None:
    server = await start_server(mock_llm_sentences=3, mock_tts_ms_per_char=25)
    client = await Client.connect(server.url, ack_playback=True)
    await client.send("text_input", text="tell me something long")
    start = await client.wait_for("tts_start")
    noise = asyncio.create_task(client.send_audio(noise_24k(-20, 3.0), speed=1.0))
    metrics = await client.wait_for("metrics", turn_id=start["turn_id"], timeout=30)
    await noise
    assert client.of_type("tts_stop") == [] and metrics["interrupted"] is False
    assert client.of_type("partial_transcript") == []
    history = history_rows(server.session(client.session_id))
    assert history[-1]["role"] == "assistant" and history[-1]["interrupted"] is False
    await client.close()
