"""A Python client of Parley's protocol (PROTOCOL.md), shared by the tests, the benchmark and users.

It records every message with its arrival time, streams PCM16 at a chosen pace, and can
act as a player that acks what it played. It depends on `websockets` only.

    client = await Client.connect("ws://127.0.0.1:8000/ws")
    await client.send("text_input", text="Hello")
    reply = await client.wait_for("llm_response", is_complete=True)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any, Self

import websockets
from websockets.asyncio.client import ClientConnection

HEADER = struct.Struct("<II")  # audio in: timestamp ms, flags; audio out: turn_id, sequence
FLAG_FIRST_BLOCK = 1 << 9
ACK_EVERY_S = 0.1


def encode_audio_in(pcm: bytes, timestamp_ms: int = 0, flags: int = 0) -> bytes:
    return HEADER.pack(timestamp_ms % (1 << 32), flags) + pcm


def decode_audio_out(raw: bytes) -> tuple[int, int, bytes]:
    turn_id, sequence = HEADER.unpack_from(raw)
    return turn_id, sequence, raw[HEADER.size :]


@dataclass
class AudioFrameIn:
    at: float
    turn_id: int
    sequence: int
    pcm: bytes


@dataclass
class Client:
    ws: ClientConnection
    rate: int = 24000
    out_rate: int = 24000
    ack_playback: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    frames: list[AudioFrameIn] = field(default_factory=list)
    stopped_turns: set[int] = field(default_factory=set)
    acks_sent: list[tuple[int, float]] = field(default_factory=list)
    frames_after_stop: int = 0  # frames of a turn that arrived after its tts_stop
    close_code: int | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def connect(
        cls, url: str, session_id: str | None = None, token: str | None = None,
        connect_options: dict[str, Any] | None = None, **kwargs: Any,
    ) -> Self:  # fmt: skip
        """Open a conversation (resuming `session_id`); `token` where the server requires one;
        `connect_options` go to websockets.connect (origin, local_addr...)."""
        target = f"{url}?session_id={session_id}" if session_id else url
        options = dict(connect_options or {})
        if token:
            headers = options.get("additional_headers", {})
            options["additional_headers"] = {**headers, "Authorization": f"Bearer {token}"}
        client = cls(await websockets.connect(target, max_size=None, **options), **kwargs)
        client._tasks.append(asyncio.create_task(client._read()))
        if client.ack_playback:
            client._tasks.append(asyncio.create_task(client._ack_loop()))
        await client.wait_for("session")
        return client

    @property
    def session_id(self) -> str:
        return str(self.events[0]["session_id"])

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.ws.close()

    async def send(self, kind: str, **fields: Any) -> None:
        await self.ws.send(json.dumps({"type": kind, **fields}))

    async def send_audio(self, pcm: bytes, frame_ms: int = 20, speed: float = 4.0) -> None:
        """Stream PCM16 at the client's rate in frames, `speed` times faster than real time."""
        step = int(self.rate * frame_ms / 1000) * 2
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, offset in enumerate(range(0, len(pcm), step)):
            chunk = pcm[offset : offset + step]
            if len(chunk) < step:
                chunk += bytes(step - len(chunk))
            flags = FLAG_FIRST_BLOCK if index == 0 else 0
            await self.ws.send(encode_audio_in(chunk, timestamp_ms=index * frame_ms, flags=flags))
            due = start + (index + 1) * frame_ms / 1000 / speed
            await asyncio.sleep(max(0.0, due - loop.time()))

    def of_type(self, kind: str, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.events[since:] if e["type"] == kind]

    async def wait_for(self, kind: str, since: int = 0, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        """The first message of `kind` at index >= since whose fields equal `match`."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events[since:]:
                    if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                        return event
                if self.close_code is not None:
                    raise AssertionError(f"closed ({self.close_code}) before {kind} {match}")
                self._changed.clear()
                await self._changed.wait()

    async def wait_closed(self, timeout: float = 10.0) -> int:
        async with asyncio.timeout(timeout):
            while self.close_code is None:
                self._changed.clear()
                await self._changed.wait()
        return self.close_code

    def audio_ms(self, turn_id: int) -> float:
        return sum(len(f.pcm) for f in self.frames if f.turn_id == turn_id) / 2 / self.out_rate * 1000

    def played_ms(self, turn_id: int) -> float:
        """What a real-time player with no jitter buffer has played of the turn by now."""
        frames = [f for f in self.frames if f.turn_id == turn_id]
        if not frames:
            return 0.0
        elapsed = (asyncio.get_running_loop().time() - frames[0].at) * 1000
        return min(self.audio_ms(turn_id), elapsed)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self._on_audio(loop.time(), message)
                else:
                    await self._on_json(loop.time(), message)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code if self.ws.close_code is not None else 1006
            self._changed.set()

    def _on_audio(self, at: float, message: bytes) -> None:
        turn_id, sequence, pcm = decode_audio_out(message)
        if turn_id in self.stopped_turns:  # a client drops frames of a stopped turn
            self.frames_after_stop += 1
        else:
            self.frames.append(AudioFrameIn(at, turn_id, sequence, pcm))

    async def _on_json(self, at: float, message: str) -> None:
        event = json.loads(message)
        event["_at"] = at
        self.events.append(event)
        if event["type"] == "tts_stop":
            self.stopped_turns.add(event["turn_id"])
            if self.ack_playback:
                await self._ack(event["turn_id"])

    async def _ack(self, turn_id: int) -> None:
        played = self.played_ms(turn_id)
        self.acks_sent.append((turn_id, played))
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.send("playback", turn_id=turn_id, played_ms=played)

    async def _ack_loop(self) -> None:
        while True:
            await asyncio.sleep(ACK_EVERY_S)
            if self.frames and (turn_id := self.frames[-1].turn_id) not in self.stopped_turns:
                await self._ack(turn_id)
