"""How long the user has really been silent: the speech gate's lag, corrected by the voice's level.

webrtcvad's hangover and Silero's smoothing keep frames "voiced" for a while after the voice
stops (83-131 ms on the local TTS's speech, measured on 9 clips ending in digital silence).
Turn detection wants that hysteresis; the end-of-turn watch, whose short silence is the
largest part of the wait for an answer, counts from the real end instead: the last frame
within LEVEL_DROP_DB of the utterance's loudest. Noise above that floor keeps the level up,
and then the gate's own count stands: the correction never shortens a silence the gate heard,
and never adds more than MAX_LAG_MS to it.
"""

from __future__ import annotations

import numpy as np

from engine.turns.detector import FRAME_BYTES, FRAME_MS

LEVEL_DROP_DB = 35.0
MAX_LAG_MS = 150
BYTES_PER_MS = FRAME_BYTES // FRAME_MS  # PCM16 at the detector's 16 kHz
_DROP = 10 ** (-LEVEL_DROP_DB / 10)  # as a ratio of mean squares


class VoiceLevel:
    """The loudest frame of an utterance so far, and the audio since the last frame near it."""

    def __init__(self) -> None:
        self._peak = 0.0  # mean square of the loudest 20 ms frame
        self.quiet_ms = 0  # audio since the last frame within LEVEL_DROP_DB of the peak

    def push(self, pcm16k: bytes) -> None:
        """Audio at 16 kHz, in 20 ms frames (a shorter tail counts as one frame)."""
        samples = np.frombuffer(pcm16k[: len(pcm16k) // 2 * 2], dtype="<i2").astype(np.float32)
        for start in range(0, samples.size, FRAME_BYTES // 2):
            frame = samples[start : start + FRAME_BYTES // 2]
            energy = float(np.dot(frame, frame)) / frame.size
            self._peak = max(self._peak, energy)
            if energy > 0 and energy >= self._peak * _DROP:
                self.quiet_ms = 0
            else:
                self.quiet_ms += frame.size * 2 // BYTES_PER_MS

    def silence_ms(self, gate_quiet_ms: int) -> int:
        """The silence so far, given the gate's count (0 while the gate hears speech)."""
        if gate_quiet_ms <= 0:
            return 0
        return max(gate_quiet_ms, min(self.quiet_ms, gate_quiet_ms + MAX_LAG_MS))
