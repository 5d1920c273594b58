"""interrupt, stop, start, reset and text_input: each works, and the session goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.client import Client
from tests.conftest import StartServer

ROOT = Path(__file__).resolve().parents[2]
LONG_REPLY = {"mock_llm_sentences": 6, "mock_tts_ms_per_char": 25}


async def test_interrupt_stops_the_reply_and_the_next_turn_works(start_server: StartServer) -> None:
    server = await start_server(**LONG_REPLY)
    client = await Client.connect(server.url)
    await client.send("text_input", text="first question")
    await client.wait_for("status", state="speaking")
    await asyncio.sleep(0.3)
    mark = len(client.events)
    await client.send("interrupt")
    ack = await client.wait_for("interrupt_acknowledged", since=mark)
    stop = await client.wait_for("tts_stop", since=mark)
    assert stop["reason"] == "interrupt" and ack["turn_id"] == stop["turn_id"]
    assert (await client.wait_for("status", since=mark))["state"] == "listening"
    assert client.frames_after_stop == 0

    mark = len(client.events)
    await client.send("text_input", text="second question")
    reply = await client.wait_for("llm_response", since=mark, is_complete=True)
    assert reply["content"].startswith('You said: "second question". This is turn 2')
    await client.send("interrupt")
    await client.wait_for("interrupt_acknowledged", since=mark)
    mark = len(client.events)
    await client.send("interrupt")  # nothing to interrupt: still acknowledged
    assert (await client.wait_for("interrupt_acknowledged", since=mark))["turn_id"] is None
    await client.close()


async def test_stop_pauses_listening_until_start(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="tell me about the ocean", **LONG_REPLY)
    client = await Client.connect(server.url)
    await client.send("text_input", text="go on")
    await client.wait_for("status", state="speaking")
    mark = len(client.events)
    await client.send("stop")
    ack = await client.wait_for("stop_acknowledged", since=mark)
    assert ack["queues_cleared"] is True
    assert (await client.wait_for("tts_stop", since=mark))["reason"] == "stop"
    await client.wait_for("status", since=mark, state="stopped")

    mark = len(client.events)
    await client.say("ocean", speed=8)  # ignored while stopped
    await client.send("text_input", text="hello?")
    error = await client.wait_for("error", since=mark)
    assert error["code"] == "not_listening"
    assert not client.of_type("final_transcript", since=mark)

    await client.send("start")
    await client.wait_for("status", since=mark, state="listening")
    mark = len(client.events)
    await client.say("ocean", speed=8)
    final = await client.wait_for("final_transcript", since=mark)
    assert final["content"] == "tell me about the ocean"
    await client.wait_for("tts_start", since=mark)
    await client.close()


async def test_reset_clears_history_and_the_session_keeps_working(start_server: StartServer) -> None:
    server = await start_server()
    client = await Client.connect(server.url)
    await client.send("text_input", text="remember me")
    await client.wait_for("metrics")
    session = server.session(client.session_id)
    assert len(session.history.items) == 2
    mark = len(client.events)
    await client.send("reset")
    await client.wait_for("reset_acknowledged", since=mark)
    assert session.history.items == ()
    await client.send("text_input", text="fresh start")
    reply = await client.wait_for("llm_response", since=mark, is_complete=True)
    assert reply["content"].startswith('You said: "fresh start". This is turn 1')
    await client.close()


async def test_configure_changes_rate_prompt_and_voice(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="tell me about the ocean")
    client = await Client.connect(server.url, rate=48000)
    await client.send("configure", input_sample_rate=48000, system_prompt="Be terse.", voice="alto", language="en-GB")
    configured = await client.wait_for("configured")
    assert configured["input_sample_rate"] == 48000 and configured["output_sample_rate"] == 24000
    assert (configured["system_prompt"], configured["voice"], configured["language"]) == ("Be terse.", "alto", "en-GB")
    assert configured["output_frame_ms"] == 40  # the server's AUDIO_OUT_FRAME_MS: not asked for
    await client.say("ocean", speed=8)
    final = await client.wait_for("final_transcript")
    assert final["content"] == "tell me about the ocean"
    session = server.session(client.session_id)
    assert session.settings.system_prompt == "Be terse."
    assert session.history.llm_messages(session.settings.system_prompt)[0] == {"role": "system", "content": "Be terse."}
    assert session.live.audio_bytes_in % 1920 == 0 and session.live.audio_bytes_in > 48000 * 2 * 3
    await client.close()


def frame_sizes_ms(client: Client, turn_id: int) -> list[float]:
    return [len(f.pcm) / 2 / client.out_rate * 1000 for f in client.frames if f.turn_id == turn_id]


async def test_a_session_asks_for_larger_audio_frames_from_its_next_reply_on(start_server: StartServer) -> None:
    server = await start_server(audio_out_frame_ms=40)
    client = await Client.connect(server.url)
    await client.send("text_input", text="default frames")
    first = await client.wait_for("tts_end")
    await client.send("configure", output_frame_ms=5)  # out of range: refused, nothing changed
    assert (await client.wait_for("error"))["code"] == "bad_field"
    await client.send("configure", output_frame_ms=100)
    assert (await client.wait_for("configured"))["output_frame_ms"] == 100
    mark = len(client.events)
    await client.send("text_input", text="larger frames")
    second = await client.wait_for("tts_end", since=mark)

    before, after = frame_sizes_ms(client, first["turn_id"]), frame_sizes_ms(client, second["turn_id"])
    assert max(before) == 40 and max(after) == 100  # a sentence's last frame may be shorter
    assert sum(after) == second["audio_ms"] and len(after) < sum(after) / 40
    assert server.session(client.session_id).settings.output_frame_ms == 100
    await client.close()


async def test_a_dropped_connection_leaves_no_task_behind(start_server: StartServer) -> None:
    server = await start_server(**LONG_REPLY)
    baseline = _our_tasks()
    client = await Client.connect(server.url)
    await client.send("text_input", text="keep talking")
    await client.wait_for("status", state="speaking")
    session = server.session(client.session_id)
    assert _our_tasks() - baseline, "a reply is running"
    client.ws.transport.abort()  # no close handshake, as when a network drops
    async with asyncio.timeout(5):
        while session.live.connection is not None or _our_tasks() - baseline:
            await asyncio.sleep(0.02)
    await client.close()


def _our_tasks() -> set[asyncio.Task[object]]:
    """Running tasks whose code lives in this repository (not the tests)."""
    found = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code and code.co_filename.startswith(str(ROOT)) and "/tests/" not in code.co_filename:
            found.add(task)
    return found
