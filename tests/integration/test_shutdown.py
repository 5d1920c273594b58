"""SIGTERM: no newcomer is admitted, every client is told when to come back, a reply in flight
finishes (or is cut at SHUTDOWN_GRACE_S), every socket closes with 1012, and the process
exits with status 0."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.client import Client
from tests.process import server_process

__all__ = ["server_process"]


async def test_a_reply_in_flight_finishes_then_clients_are_closed_and_the_process_exits_0(
    server_process: Any,
) -> None:
    server = await server_process(MOCK_LLM_SENTENCES="3", MOCK_TTS_MS_PER_CHAR="20", SHUTDOWN_GRACE_S="20")
    speaking, quiet = await Client.connect(server.url), await Client.connect(server.url)
    await speaking.send("text_input", text="tell me a story")
    await speaking.wait_for("tts_start")
    server.process.send_signal(signal.SIGTERM)

    going = await speaking.wait_for("going_away")
    assert going["reconnect_after_s"] > 0 and (await quiet.wait_for("going_away"))["reconnect_after_s"] > 0
    with pytest.raises(InvalidStatus):
        async with websockets.connect(server.url):
            pass
    await quiet.send("text_input", text="one more?")
    assert (await quiet.wait_for("error"))["code"] == "service_unavailable"
    end = await speaking.wait_for("tts_end", timeout=30)
    assert speaking.events.index(going) < speaking.events.index(end), "the reply went on after going_away"
    assert speaking.of_type("tts_stop") == [], "nothing was cut"
    assert await speaking.wait_closed() == 1012 and await quiet.wait_closed() == 1012
    assert await asyncio.to_thread(server.process.wait, 30) == 0


async def test_a_reply_still_running_at_the_deadline_is_cut(server_process: Any) -> None:
    server = await server_process(MOCK_LLM_SENTENCES="8", MOCK_TTS_MS_PER_CHAR="60", SHUTDOWN_GRACE_S="1")
    client = await Client.connect(server.url)
    await client.send("text_input", text="tell me a very long story")
    await client.wait_for("tts_start")
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    await client.wait_for("going_away")
    assert await client.wait_closed() == 1012
    waited = time.monotonic() - started
    assert client.of_type("tts_end") == [], "the reply was still speaking"
    assert waited >= 1.0, "the grace period was given"
    assert await asyncio.to_thread(server.process.wait, 30) == 0
    print(f"closed {waited:.2f} s after SIGTERM (grace 1 s)")
