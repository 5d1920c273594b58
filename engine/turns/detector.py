"""Server-side turn detection: webrtcvad decisions on 20 ms frames at 16 kHz.

The detector counts audio, not wall time, so a scripted stream of frames gives the same
turns however fast it is pushed; that keeps turn detection deterministic in tests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import webrtcvad

from utils.audio import FrameSplitter, bytes_for_ms

VAD_RATE = 16000
FRAME_MS = 20
FRAME_BYTES = bytes_for_ms(FRAME_MS, VAD_RATE)


@dataclass(frozen=True)
class TurnConfig:
    aggressiveness: int = 2
    start_ms: int = 60
    end_silence_ms: int = 600
    preroll_ms: int = 300
    max_utterance_ms: int = 30000


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began; `audio` is the pre-roll plus the voiced run that confirmed it."""

    audio: bytes
    voiced_ms: int


@dataclass(frozen=True)
class SpeechAudio:
    """A frame inside an utterance; `voiced_ms` is the voiced total of the utterance so far."""

    audio: bytes
    voiced_ms: int


@dataclass(frozen=True)
class SpeechEnded:
    """The turn ended after `end_silence_ms` of silence, or by force at the length limit.

    `audio` is the frame that ended it, still part of the utterance.
    """

    audio: bytes
    voiced_ms: int
    duration_ms: int
    forced: bool


TurnEvent = SpeechStarted | SpeechAudio | SpeechEnded


def webrtc_classifier(aggressiveness: int) -> Callable[[bytes], bool]:
    vad = webrtcvad.Vad(aggressiveness)
    return lambda frame: bool(vad.is_speech(frame, VAD_RATE))


class TurnDetector:
    """Segments 16 kHz PCM16 into utterances with a pre-roll and silence hysteresis."""

    def __init__(self, config: TurnConfig, is_speech: Callable[[bytes], bool] | None = None) -> None:
        self.config = config
        self._is_speech = is_speech or webrtc_classifier(config.aggressiveness)
        self._splitter = FrameSplitter(FRAME_BYTES)
        self._start_frames = max(1, config.start_ms // FRAME_MS)
        self._end_frames = max(1, config.end_silence_ms // FRAME_MS)
        self._max_frames = max(1, config.max_utterance_ms // FRAME_MS)
        self._history: deque[bytes] = deque(maxlen=config.preroll_ms // FRAME_MS + self._start_frames)
        self._voiced_run = 0
        self._silent_run = 0
        self._in_speech = False
        self._voiced_frames = 0
        self._utterance_frames = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def push(self, pcm16k: bytes) -> list[TurnEvent]:
        """Feed audio of any length; returns the events its complete frames caused."""
        events: list[TurnEvent] = []
        for frame in self.split(pcm16k):
            event = self.step(frame, self._is_speech(frame))
            if event is not None:
                events.append(event)
        return events

    def split(self, pcm16k: bytes) -> list[bytes]:
        """The complete 20 ms frames of audio of any length (the rest waits for the next push),
        for a caller that classifies each frame itself and hands it to `step`."""
        return self._splitter.push(pcm16k)

    def reset(self) -> None:
        """Forget any speech in progress (after `stop` or `reset`)."""
        self._splitter.clear()
        self._history.clear()
        self._voiced_run = self._silent_run = 0
        self._in_speech = False
        self._voiced_frames = self._utterance_frames = 0

    def end_now(self) -> SpeechEnded | None:
        """End the utterance in progress here (the end-of-turn model found it complete)."""
        if not self._in_speech:
            return None
        self._in_speech = False
        self._silent_run = 0
        return SpeechEnded(b"", self._voiced_frames * FRAME_MS, self._utterance_frames * FRAME_MS, forced=False)

    def step(self, frame: bytes, voiced: bool) -> TurnEvent | None:
        """One classified frame: the event it causes, if any."""
        if not self._in_speech:
            self._history.append(frame)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run < self._start_frames:
                return None
            self._in_speech = True
            self._voiced_frames = self._voiced_run
            self._utterance_frames = self._voiced_run
            self._silent_run = 0
            audio = b"".join(self._history)
            self._history.clear()
            self._voiced_run = 0
            return SpeechStarted(audio, self._voiced_frames * FRAME_MS)
        self._utterance_frames += 1
        if voiced:
            self._voiced_frames += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        forced = self._utterance_frames >= self._max_frames
        if self._silent_run >= self._end_frames or forced:
            self._in_speech = False
            ended = SpeechEnded(
                audio=frame,
                voiced_ms=self._voiced_frames * FRAME_MS,
                duration_ms=self._utterance_frames * FRAME_MS,
                forced=forced and self._silent_run < self._end_frames,
            )
            self._silent_run = 0
            return ended
        return SpeechAudio(frame, self._voiced_frames * FRAME_MS)
