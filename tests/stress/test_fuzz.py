"""A live fuzz: 10,000 random, malformed, truncated, oversized and out-of-order inputs over
concurrent connections, beside a well-behaved neighbour holding a conversation. The server
answers or closes every bad connection, never crashes or logs a traceback, and the
neighbour's turns all complete within 1.5x its unloaded time."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.client import Client
from tests.stress.fuzz import fuzz_inputs

TOTAL_INPUTS = 10_000
FUZZERS = 8
OVERSIZED_EVERY = 700  # one input in so many is larger than WS_MAX_MESSAGE_BYTES
INVALID_UTF8_EVERY = 900  # one in so many is a text frame that is not UTF-8
MAX_BYTES = 64 * 1024


@dataclass
class Figures:
    inputs: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)
    refused: int = 0


async def read_all(ws: Any, figures: Figures) -> None:
    async for message in ws:
        if isinstance(message, str) and '"type":"error"' in message:
            figures.errors[message.split('"code":"')[1].split('"')[0]] += 1


async def fuzzer(url: str, address: str, seed: int, figures: Figures) -> None:
    rng = random.Random(seed)
    next_input = fuzz_inputs(rng)
    while figures.inputs < TOTAL_INPUTS:
        try:
            async with websockets.connect(url, local_addr=(address, 0), max_size=None, open_timeout=10) as ws:
                reader = asyncio.create_task(read_all(ws, figures))
                try:
                    while figures.inputs < TOTAL_INPUTS:
                        figures.inputs += 1
                        if figures.inputs % OVERSIZED_EVERY == 0:
                            await ws.send("x" * (MAX_BYTES + 1))
                        elif figures.inputs % INVALID_UTF8_EVERY == 0:
                            await ws.send(b'{"type": "text_input", "text": "\xff\xfe"}', text=True)
                        else:
                            await ws.send(next_input())
                        await asyncio.sleep(0.004)  # about 250 a second: under MAX_MESSAGES_PER_S
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
        except ConnectionClosed as closed:
            figures.closes[closed.rcvd.code if closed.rcvd else 1006] += 1
        except InvalidStatus:
            figures.refused += 1
            await asyncio.sleep(0.1)


async def turn_time(client: Client, index: int) -> float:
    started, mark = time.monotonic(), len(client.events)
    await client.send("text_input", text=f"question {index}")
    await client.wait_for("metrics", since=mark, timeout=30)
    await client.wait_for("status", since=mark, state="listening", timeout=30)
    return time.monotonic() - started


async def test_ten_thousand_hostile_inputs_beside_a_neighbour(server_process: Any, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = await server_process(log, WS_MAX_MESSAGE_BYTES=str(MAX_BYTES), LOG_LEVEL="info")
    neighbour = await Client.connect(server.url)
    unloaded = [await turn_time(neighbour, index) for index in range(3)]

    figures = Figures()
    fuzzers = [
        asyncio.create_task(fuzzer(server.url, f"127.0.0.{2 + n}", seed=n, figures=figures)) for n in range(FUZZERS)
    ]
    loaded: list[float] = []
    while not all(task.done() for task in fuzzers):
        loaded.append(await turn_time(neighbour, len(loaded) + 3))
    await asyncio.gather(*fuzzers)
    await neighbour.close()

    baseline = max(unloaded)
    text = log.read_text()
    print(
        f"\nfuzz: {figures.inputs} inputs over {FUZZERS} connections at a time; errors answered "
        f"{sum(figures.errors.values())} {dict(figures.errors.most_common(6))}; closes {dict(figures.closes)}; "
        f"refused handshakes {figures.refused}; tracebacks {text.count('Traceback')}; crashes "
        f"{figures.errors['internal_error'] + (server.process.poll() is not None)}\n"
        f"neighbour: {len(loaded)} turns under fuzz, {statistics.median(loaded):.2f} s median, "
        f"{max(loaded):.2f} s worst; unloaded {statistics.median(unloaded):.2f} s median, {baseline:.2f} s worst; "
        f"worst ratio {max(loaded) / baseline:.2f}"
    )
    assert figures.inputs >= TOTAL_INPUTS
    assert server.process.poll() is None, "the server is still up"
    assert "Traceback" not in text and figures.errors["internal_error"] == 0
    assert figures.closes[1009] > 0 and figures.closes[1007] > 0 and figures.closes[1008] > 0
    assert loaded and max(loaded) <= 1.5 * baseline
