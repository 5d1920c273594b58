"""1,000 conversations that end at every stage (before a word, mid-utterance, while thinking,
while speaking, after the reply, by a dropped network): afterwards the server's tasks,
threads and open files are back to their baseline, and its memory within a bound."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.client import Client, load_speech, silence

CYCLES = 1000
PARALLEL = 10
RSS_GROWTH_BOUND_MB = 40  # SECURITY.md: what 1,000 finished conversations may leave behind (allocator slack)
SETTINGS = {"MAX_CONNECTIONS_PER_ADDRESS": "64", "MAX_SESSIONS_PER_ADDRESS": "64", "MOCK_ASR_SCRIPT": "hello"}
SPEECH = load_speech("short")


async def right_away(client: Client) -> None:
    pass


async def mid_utterance(client: Client) -> None:
    await client.send_audio(silence(200) + SPEECH[: len(SPEECH) // 2], speed=8)


async def while_thinking(client: Client) -> None:
    await client.send("text_input", text="think about it")
    await client.wait_for("status", state="thinking")


async def while_speaking(client: Client) -> None:
    await client.send("text_input", text="tell me")
    await client.wait_for("tts_start")


async def after_the_reply(client: Client) -> None:
    await client.send_audio(silence(200) + SPEECH + silence(800), speed=8)
    await client.wait_for("metrics")


async def network_drop(client: Client) -> None:
    await client.send("text_input", text="tell me")
    await client.wait_for("tts_start")
    client.ws.transport.abort()  # no close frame: the connection just vanishes


STAGES: list[Callable[[Client], Awaitable[None]]] = [
    right_away, mid_utterance, while_thinking, while_speaking, after_the_reply, network_drop,
]  # fmt: skip


async def cycle(url: str, index: int, done: Counter[str]) -> None:
    stage = STAGES[index % len(STAGES)]
    client = await Client.connect(url)
    with contextlib.suppress(ConnectionClosed):
        await stage(client)
    with contextlib.suppress(ConnectionClosed, OSError):
        await client.close()
    done[stage.__name__] += 1


async def run_cycles(url: str, count: int, done: Counter[str]) -> None:
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            await cycle(url, index, done)

    await asyncio.gather(*(worker() for _ in range(PARALLEL)))


async def settled(server: Any, baseline: dict[str, float]) -> dict[str, float]:
    """The server's figures once every connection and session has wound down (or after 20 s)."""
    figures: dict[str, float] = server.figures()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(20):
            while (figures := server.figures())["sessions"] or figures["tasks"] > baseline["tasks"]:
                await asyncio.sleep(0.2)
    return figures


async def test_a_thousand_conversations_ending_at_every_stage_leave_nothing_behind(server_process: Any) -> None:
    server = await server_process(**SETTINGS, SESSION_IDLE_TIMEOUT_S="1")
    done: Counter[str] = Counter()
    await run_cycles(server.url, 60, done)  # warm the allocator and the caches up first
    baseline = await settled(server, server.figures())
    started = time.monotonic()
    await run_cycles(server.url, CYCLES // 2, done)
    half = await settled(server, baseline)
    await run_cycles(server.url, CYCLES - CYCLES // 2, done)
    elapsed = time.monotonic() - started
    after = await settled(server, baseline)
    print(
        f"\nleaks: {CYCLES} conversations in {elapsed:.0f} s ({dict(done)}); tasks {baseline['tasks']} -> "
        f"{after['tasks']}, threads {baseline['threads']} -> {after['threads']}, open files "
        f"{baseline['open_fds']} -> {after['open_fds']}, RSS {baseline['rss_mb']:.0f} -> {half['rss_mb']:.0f} "
        f"(after 500) -> {after['rss_mb']:.0f} MB"
    )
    assert after["tasks"] <= baseline["tasks"] and after["threads"] <= baseline["threads"]
    assert after["open_fds"] <= baseline["open_fds"]
    assert after["rss_mb"] - baseline["rss_mb"] < RSS_GROWTH_BOUND_MB
