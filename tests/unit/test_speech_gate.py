"""Noise opens no turn: webrtcvad's speech frames must be confirmed by Silero.

Scripted in: seconds of white noise at several levels, silence, speech, speech in
noise. Out: the turn events of a real TurnDetector behind the SpeechGate.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.turns.detector import (
    VAD_RATE,
    SpeechEnded,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEvent,
    webrtc_classifier,
)
from engine.turns.speech_gate import HANGOVER_MS, PREROLL_MS, SileroConfirmer, SpeechGate
from tests.client import load_speech


def white_noise(dbfs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rms = 32768 * 10 ** (dbfs / 20)
    return np.random.default_rng(seed).normal(0, rms, int(VAD_RATE * seconds))


def pcm(samples: np.ndarray) -> bytes:
    data: bytes = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return data


def turn_events(audio: bytes, confirm: str = "silero") -> list[TurnEvent]:
    gate = SpeechGate(aggressiveness=2, confirm=confirm, threshold=0.5)
    detector = TurnDetector(TurnConfig(), is_speech=gate)
    events: list[TurnEvent] = []
    for offset in range(0, len(audio), 640):
        events += [e for e in detector.push(audio[offset : offset + 640]) if isinstance(e, SpeechStarted | SpeechEnded)]
    gate.close()
    return events


@pytest.mark.parametrize("dbfs", [-50, -40, -30, -20, -10])
def test_white_noise_opens_no_turn(dbfs: float) -> None:
    assert turn_events(pcm(white_noise(dbfs, 5))) == []


def test_silence_opens_no_turn() -> None:
    assert turn_events(bytes(VAD_RATE * 2 * 5)) == []


def test_webrtcvad_alone_takes_loud_noise_for_speech() -> None:
    """Why the confirmation exists."""
    assert any(isinstance(e, SpeechStarted) for e in turn_events(pcm(white_noise(-20, 5)), confirm="none"))


def test_speech_opens_and_closes_one_turn() -> None:
    speech = load_speech("ocean", VAD_RATE) + bytes(VAD_RATE * 2)
    events = turn_events(speech)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]


def test_speech_in_noise_at_10_db_snr_still_opens_a_turn() -> None:
    speech = np.frombuffer(load_speech("ocean", VAD_RATE), dtype="<i2").astype(np.float64)
    speech_rms = np.sqrt(np.mean(speech[np.abs(speech) > 300] ** 2))
    noise = white_noise(0, len(speech) / VAD_RATE)[: len(speech)]
    noise *= speech_rms / np.sqrt(np.mean(noise**2)) / 10 ** (10 / 20)
    events = turn_events(pcm(speech + noise))
    assert SpeechStarted in [type(e) for e in events]


def first_confirmed_frame(audio: bytes, gated: bool) -> tuple[int, int]:
    """The first frame webrtcvad and Silero agree is speech, and Silero's windows run before it."""
    webrtc, silero = webrtc_classifier(2), SileroConfirmer(0.5)
    for index, offset in enumerate(range(0, len(audio), 640)):
        frame = audio[offset : offset + 640]
        voiced = webrtc(frame)
        if silero.update(frame, voiced if gated else True) and voiced:
            return index, silero.windows_run
    raise AssertionError("no speech confirmed")


def test_silero_sleeps_through_silence_and_wakes_in_time() -> None:
    """Silero runs only near webrtcvad's voiced frames, and confirms speech as early as when
    it hears every frame (within one 32 ms window)."""
    audio = bytes(VAD_RATE * 2 * 3) + pcm(white_noise(-60, 1)) + load_speech("ocean", VAD_RATE)
    audio = audio[: len(audio) // 640 * 640]
    gated_frame, gated_windows = first_confirmed_frame(audio, gated=True)
    awake_frame, awake_windows = first_confirmed_frame(audio, gated=False)
    assert abs(gated_frame - awake_frame) <= 2
    assert awake_windows > 4 * VAD_RATE // 512 - 2  # the awake one ran through 4 s of quiet
    # it woke twice (webrtcvad hears the step from digital silence into noise, then the voice):
    # each time its pre-roll and hangover, about 13 windows, instead of 143
    assert gated_windows <= 2 * (PREROLL_MS + HANGOVER_MS) // 32 + 4
