"""100 attacking connections from 100 addresses (audio at 10x real time, typed turns at the
limit, idle holders, clients that never read) beside a neighbour in conversation: newcomers
are still admitted, the neighbour's turns complete, the server's memory stays under its
bound, and every attacking socket is released."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.client import Client, encode_audio_in, load_speech
from tests.integration.test_limits import never_reading_client

PER_KIND = 25
RSS_GROWTH_BOUND_MB = 150  # SECURITY.md: what 100 attacking connections may add to the server's memory
SETTINGS = {"CONNECTION_IDLE_TIMEOUT_S": "5", "SEND_TIMEOUT_S": "2", "MAX_SESSIONS": "150"}


def address(n: int) -> str:
    return f"127.0.{10 + n // 250}.{1 + n % 250}"


async def audio_flooder(url: str, n: int, outcome: list[int]) -> None:
    speech = load_speech("ocean")
    frames = [encode_audio_in(speech[i : i + 960]) for i in range(0, len(speech) - 960, 960)]  # 20 ms each
    try:
        async with websockets.connect(url, local_addr=(address(n), 0)) as ws:
            reader = asyncio.create_task(_drain(ws))  # it reads what it is told (else it is dropped: 1006)
            while not reader.done():
                for frame in frames:
                    await ws.send(frame)
                    await asyncio.sleep(0.002)  # 10x real time
    except ConnectionClosed as closed:
        outcome.append(closed.rcvd.code if closed.rcvd else 1006)
    except InvalidStatus:
        outcome.append(403)


async def text_at_the_limit(url: str, n: int, stop: asyncio.Event) -> None:
    with contextlib.suppress(ConnectionClosed, InvalidStatus):
        async with websockets.connect(url, local_addr=(address(n), 0)) as ws:
            reader = asyncio.create_task(_drain(ws))
            while not stop.is_set():
                await ws.send(json.dumps({"type": "text_input", "text": f"attacker {n} again"}))
                await asyncio.sleep(0.5)
            reader.cancel()


async def idle_holder(url: str, n: int, outcome: list[int]) -> None:
    try:
        async with websockets.connect(url, local_addr=(address(n), 0), ping_interval=1) as ws:
            await ws.wait_closed()
            outcome.append(ws.close_code or 1006)
    except InvalidStatus:
        outcome.append(403)


def never_reader(port: int, n: int) -> socket.socket | None:
    prompt = json.dumps({"type": "configure", "system_prompt": "x" * 4000})
    messages = [json.dumps({"type": "text_input", "text": "talk to me"}), *[prompt] * 200]
    with contextlib.suppress(OSError, AssertionError):
        return never_reading_client(port, messages, source=address(n))
    return None


async def _drain(ws: Any) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


@dataclass
class Attack:
    """The hundred attackers: started together, ended by the server (or told to stop)."""

    url: str
    port: int
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    audio_closes: list[int] = field(default_factory=list)
    idle_closes: list[int] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    readers: list[socket.socket | None] = field(default_factory=list)

    async def start(self) -> None:
        url, kinds = self.url, PER_KIND
        self.tasks = [
            *(asyncio.create_task(audio_flooder(url, n, self.audio_closes)) for n in range(kinds)),
            *(asyncio.create_task(text_at_the_limit(url, kinds + n, self.stop)) for n in range(kinds)),
            *(asyncio.create_task(idle_holder(url, 2 * kinds + n, self.idle_closes)) for n in range(kinds)),
        ]
        self.readers = await asyncio.gather(
            *(asyncio.to_thread(never_reader, self.port, 3 * kinds + n) for n in range(kinds))
        )

    async def end(self) -> None:
        """The typed turns stop; the rest must have been closed by the server."""
        self.stop.set()
        async with asyncio.timeout(60):
            while len(self.idle_closes) < PER_KIND or len(self.audio_closes) < PER_KIND:
                await asyncio.sleep(0.2)
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def peak_memory(server: Any, peak: list[float]) -> None:
    while True:
        peak[0] = max(peak[0], server.rss_mb())
        await asyncio.sleep(0.1)


def released(now: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """Every attacking socket and the tasks that served it are gone (the test's own sessions closed too)."""
    return bool(now["open_fds"] <= baseline["open_fds"] + 2 and now["tasks"] <= baseline["tasks"] + 2)


async def test_a_hundred_attackers_do_not_starve_a_neighbour_or_lock_newcomers_out(server_process: Any) -> None:
    server = await server_process(**SETTINGS)
    neighbour = await Client.connect(server.url)
    await neighbour.send("text_input", text="warm up")
    await neighbour.wait_for("metrics")
    baseline, peak = server.figures(), [0.0]
    sampler = asyncio.create_task(peak_memory(server, peak))
    attack, started = Attack(server.url, server.port), time.monotonic()
    await attack.start()

    turns = []
    for index in range(3):
        mark = len(neighbour.events)
        await neighbour.send("text_input", text=f"still there {index}?")
        turns.append(await neighbour.wait_for("metrics", since=mark, timeout=30))
    joining = [Client.connect(server.url, connect_options={"local_addr": (f"127.1.0.{n + 1}", 0)}) for n in range(5)]
    newcomers: list[Client] = list(await asyncio.gather(*joining))
    for client in newcomers:
        await client.send("text_input", text="hello, I am new")
        await client.wait_for("tts_start", timeout=30)

    await attack.end()
    for client in [neighbour, *newcomers]:
        await client.close()
    async with asyncio.timeout(30):
        while not released(after := server.figures(), baseline):
            await asyncio.sleep(0.2)
    sampler.cancel()
    for raw in attack.readers:
        if raw is not None:
            raw.close()
    print(
        f"\nfloods: neighbour turns {[round(t['first_audio_sent_ms']) for t in turns]} ms to first audio; "
        f"5 newcomers admitted; audio flooders closed {sorted(set(attack.audio_closes))}; idle holders closed "
        f"{sorted(set(attack.idle_closes))}; server RSS {baseline['rss_mb']:.0f} MB -> peak {peak[0]:.0f} MB; "
        f"open files {baseline['open_fds']} -> {after['open_fds']}, tasks {baseline['tasks']} -> {after['tasks']} "
        f"after the attack "
        f"({time.monotonic() - started:.0f} s)"
    )
    assert all(t["interrupted"] is False for t in turns)
    assert set(attack.audio_closes) <= {1008, 1013} and set(attack.idle_closes) <= {4002, 1013}
    assert peak[0] - baseline["rss_mb"] < RSS_GROWTH_BOUND_MB
