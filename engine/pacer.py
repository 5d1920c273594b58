"""Sends a reply's audio at real time plus a small lead, and tracks what the client played.

Pacing keeps little audio queued anywhere, so a cut-in silences the bot at once and the
server knows what was heard. The played position comes from the client's `playback`
acks when it sends them (extrapolated at real time between acks), else from real time
since the first frame, and never runs ahead of what was sent (a starved player stalls).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from utils.audio import bytes_for_ms, duration_ms

PAUSED_CHECK_S = 1.0  # a paused pacer wakes on resume; this only bounds each wait


class Pacer:
    def __init__(self, sample_rate: int, frame_ms: int, lead_ms: float, send_frame: Callable[[bytes], None]) -> None:
        self.sample_rate = sample_rate
        self.frame_bytes = bytes_for_ms(frame_ms, sample_rate)
        self.lead_ms = lead_ms
        self._send_frame = send_frame
        self._sent_ms = 0.0
        self._played_ms = 0.0
        self._clock_at: float | None = None  # loop time of the last played-position update
        self._acked = False
        self._paused = False
        self._wake = asyncio.Event()

    @property
    def sent_ms(self) -> float:
        return self._sent_ms

    @property
    def acked(self) -> bool:
        """Whether the client has reported its playback for this reply."""
        return self._acked

    def played_ms(self) -> float:
        """Best estimate of how much of the sent audio the client has played by now."""
        self._advance()
        return self._played_ms

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Send nothing more and hold the played position: the client has paused its player."""
        self._advance()
        self._paused = True

    def resume(self) -> None:
        """Go on from where the pause left off: nothing sent is lost, nothing is sent twice."""
        if self._paused:
            self._paused = False
            if self._clock_at is not None:
                self._clock_at = asyncio.get_running_loop().time()
            self._wake.set()

    def on_playback(self, played_ms: float) -> None:
        """A `playback` ack from the client: the authoritative position at this moment."""
        self._advance()
        self._played_ms = max(0.0, min(float(played_ms), self._sent_ms))
        self._acked = True
        self._wake.set()

    async def send(self, pcm: bytes) -> None:
        """Send `pcm` in frames, never more than `lead_ms` ahead of the played position."""
        for start in range(0, len(pcm), self.frame_bytes):
            frame = pcm[start : start + self.frame_bytes]
            frame_ms = duration_ms(len(frame), self.sample_rate)
            while self._paused or (ahead := self._sent_ms + frame_ms - self.played_ms()) > self.lead_ms:
                await self._sleep_or_ack(PAUSED_CHECK_S if self._paused else (ahead - self.lead_ms) / 1000)
            if self._clock_at is None:
                self._clock_at = asyncio.get_running_loop().time()
            self._send_frame(frame)
            self._sent_ms += frame_ms

    async def wait_for_playout(self) -> float:
        """Wait until everything sent has been played; returns the played position."""
        while (left := self._sent_ms - self.played_ms()) > 0.5:
            await self._sleep_or_ack(PAUSED_CHECK_S if self._paused else left / 1000)
        return self._played_ms

    def _advance(self) -> None:
        if self._clock_at is None or self._paused:
            return
        now = asyncio.get_running_loop().time()
        self._played_ms = min(self._sent_ms, self._played_ms + (now - self._clock_at) * 1000)
        self._clock_at = now

    async def _sleep_or_ack(self, seconds: float) -> None:
        self._wake.clear()
        try:
            async with asyncio.timeout(max(seconds, 0.001)):
                await self._wake.wait()
        except TimeoutError:
            pass
