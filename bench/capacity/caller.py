"""A scripted caller: 20 ms frames at real time, a question, a cut-in a second into each reply.

One `Ticker` sends every caller's next frame (20 ms unless the sweep asks for larger ones),
the callers spread over four wake-ups a frame (so the client keeps up with hundreds of callers
on one core, and reports its own lateness); each caller's
reader notes what arrives. The caller acts as a player would: it acknowledges playback every
150 ms, holds on `tts_pause` and flushes on `tts_stop`. Its cut-in's words become the next question, so a caller
talks and cuts in for as long as the step lasts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.capacity.script import HEADER, SILENT_FLAGS, Utterance, frame_message, silent_frame

ACK_EVERY_S = 0.15
CUT_IN_AFTER_S = 1.0
REPLY_TIMEOUT_S = 8.0
STOP_TIMEOUT_S = 5.0
OUT_RATE = 24000


@dataclass
class Reply:
    turn_id: int
    first_at: float
    received_ms: float = 0.0
    worst_lateness_ms: float = 0.0
    ended: bool = False
    stopped_at: float | None = None

    def played_ms(self, now: float) -> float:
        return min(self.received_ms, (now - self.first_at) * 1000)


@dataclass
class Figures:
    """What one caller measured."""

    setup_s: float | None = None
    response_ms: list[float] = field(default_factory=list)
    stop_ms: list[float] = field(default_factory=list)
    old_audio_after_onset_ms: list[float] = field(default_factory=list)  # arrived after the onset, until held
    pause_ms: list[float] = field(default_factory=list)  # the cut-in's onset -> tts_pause
    overhead_ms: list[float] = field(default_factory=list)  # end-of-turn decision -> first audio sent (server)
    lateness_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Caller:
    def __init__(
        self, question: Utterance, cut_in: Utterance, start_delay_s: float, out_frame_ms: int | None = None
    ) -> None:
        self.question, self.cut_in = question, cut_in
        self._silence = silent_frame(question.frame_ms)
        self._out_frame_ms = out_frame_ms  # asked of the server with `configure` (protocol 1.6)
        self.figures = Figures()
        self.ws: ClientConnection | None = None
        self._start_delay_s = start_delay_s
        self._speaking: Utterance | None = None
        self._frame = 0
        self._pause_until = 0.0
        self._speech_end_at: float | None = None  # awaiting a reply to speech that ended then
        self._onset_at: float | None = None  # the cut-in's onset, while the cut reply is stopping
        self._reply: Reply | None = None
        self._cut: Reply | None = None
        self._old_audio_ms = 0.0  # of the cut reply, arrived after the cut-in's onset (until tts_pause)
        self._held = False  # tts_pause came: the player holds, later audio of the cut reply is not heard
        self._last_turn = 0
        self._next_ack = 0.0

    async def open(self, url: str) -> None:
        await asyncio.sleep(self._start_delay_s)
        began = time.monotonic()
        self.ws = await asyncio.wait_for(connect(url, max_size=None, open_timeout=30), 30)
        first = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if first.get("type") != "session":
            raise RuntimeError(f"first message was {first.get('type')}")
        self.figures.setup_s = time.monotonic() - began
        if self._out_frame_ms is not None:
            await self.ws.send(json.dumps({"type": "configure", "output_frame_ms": self._out_frame_ms}))
        self._pause_until = time.monotonic() + 0.3

    # --- sending (called by the ticker every frame) ---

    def next_messages(self, now: float, timestamp_ms: int) -> list[bytes | str]:
        out: list[bytes | str] = [self._audio(now, timestamp_ms)]
        reply = self._reply or self._cut
        if reply is not None and now >= self._next_ack:
            self._next_ack = now + ACK_EVERY_S
            out.append(json.dumps({"type": "playback", "turn_id": reply.turn_id, "played_ms": reply.played_ms(now)}))
        return out

    def _audio(self, now: float, timestamp_ms: int) -> bytes:
        if self._speaking is None:
            self._follow_script(now)
        speaking = self._speaking
        if speaking is None:
            return frame_message(timestamp_ms, SILENT_FLAGS, self._silence)
        # moments are taken when the frame holding them is sent (a frame is sent once captured,
        # so up to one frame of capture delay is not counted)
        if speaking is self.cut_in and speaking.holds(self._frame, speaking.onset_ms):
            self._onset_at = now
        if speaking.holds(self._frame, speaking.end_ms):
            self._speech_end_at = now
        message = frame_message(timestamp_ms, speaking.flags[self._frame], speaking.frames[self._frame])
        self._frame += 1
        if self._frame == len(speaking.frames):
            self._speaking = None
        return message

    def _follow_script(self, now: float) -> None:
        """Between utterances: start one when the script says so, note what never came."""
        if self._cut is not None and self._onset_at is not None and now - self._onset_at > STOP_TIMEOUT_S:
            self.figures.failures.append("reply not stopped by the cut-in")
            self._cut = None
        if self._speech_end_at is not None:
            if now - self._speech_end_at > REPLY_TIMEOUT_S:
                self.figures.failures.append("no reply")
                self._speech_end_at, self._pause_until = None, now + 0.3
            return
        reply = self._reply
        if reply is not None and not reply.ended and now - reply.first_at >= CUT_IN_AFTER_S:
            self._cut, self._reply = reply, None
            self._say(self.cut_in)
        elif reply is not None and reply.ended and reply.played_ms(now) >= reply.received_ms:
            self._reply, self._pause_until = None, now + 0.3  # a short reply played out: ask again
        elif reply is None and self._cut is None and now >= self._pause_until:
            self._say(self.question)

    def _say(self, utterance: Utterance) -> None:
        self._speaking, self._frame = utterance, 0

    # --- receiving ---

    async def read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for message in self.ws:
                now = time.monotonic()
                if isinstance(message, bytes):
                    self._on_audio(now, message)
                else:
                    self._on_event(now, json.loads(message))

    def _on_audio(self, now: float, message: bytes) -> None:
        turn_id, _ = HEADER.unpack_from(message)
        ms = (len(message) - HEADER.size) / 2 / OUT_RATE * 1000
        cut = self._cut
        if cut is not None and turn_id == cut.turn_id:
            cut.received_ms += ms
            if self._onset_at is not None and not self._held:
                self._old_audio_ms += ms
            return
        reply = self._reply
        if reply is None or reply.turn_id != turn_id:
            if turn_id <= self._last_turn or self._speech_end_at is None:
                return  # a reply already cut, or one nobody asked for
            self._last_turn = turn_id
            self.figures.response_ms.append((now - self._speech_end_at) * 1000)
            self._speech_end_at = None
            reply = self._reply = Reply(turn_id, now)
            self._next_ack = now + ACK_EVERY_S
        lateness = (now - reply.first_at) * 1000 - reply.received_ms
        reply.worst_lateness_ms = max(reply.worst_lateness_ms, lateness)
        reply.received_ms += ms

    def _on_event(self, now: float, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "tts_pause":
            cut = self._cut
            if cut is not None and event.get("turn_id") == cut.turn_id and self._onset_at is not None:
                self.figures.pause_ms.append((now - self._onset_at) * 1000)
                self._held = True
        elif kind == "tts_stop":
            cut = self._cut
            if cut is not None and event.get("turn_id") == cut.turn_id and self._onset_at is not None:
                self.figures.stop_ms.append((now - self._onset_at) * 1000)
                self.figures.old_audio_after_onset_ms.append(self._old_audio_ms)
                self.figures.lateness_ms.append(max(0.0, cut.worst_lateness_ms))
                self._cut, self._onset_at, self._old_audio_ms, self._held = None, None, 0.0, False
        elif kind == "tts_end" and self._reply is not None and event.get("turn_id") == self._reply.turn_id:
            self._reply.ended = True
            self.figures.lateness_ms.append(max(0.0, self._reply.worst_lateness_ms))
        elif kind == "metrics" and event.get("first_audio_sent_ms") is not None:
            decided = event.get("turn_taken_ms")  # the end-of-turn decision (a speculative reply waits for it)
            if decided is not None:
                self.figures.overhead_ms.append(event["first_audio_sent_ms"] - decided)
        elif kind == "error":
            self.figures.failures.append(f"error {event.get('code')}")

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)


class Ticker:
    """Sends every caller's next messages each frame; records how late each tick was.

    Callers are spread over PHASES ticks a frame (caller i on tick i % PHASES), as real clients'
    frames arrive at random moments, not all at once: the server sees no bursts a real one
    would not, and what it batches across sessions is what it would batch in use."""

    PHASES = 4

    def __init__(self, frame_ms: int) -> None:
        self.callers: list[Caller] = []
        self.lateness_ms: list[float] = []
        self.frame_ms = frame_ms

    async def run(self, until: float) -> None:
        step = self.frame_ms / 1000 / self.PHASES
        began = next_at = time.monotonic()
        tick = 0
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            now = time.monotonic()
            self.lateness_ms.append((now - next_at) * 1000)
            timestamp_ms = int((next_at - began) * 1000)
            for caller in self.callers[tick % self.PHASES :: self.PHASES]:
                if caller.ws is None:
                    continue
                for message in caller.next_messages(now, timestamp_ms):
                    try:
                        await caller.ws.send(message)
                    except Exception:
                        caller.figures.failures.append("connection lost")
                        caller.ws = None
                        break
            next_at += step
            tick += 1
