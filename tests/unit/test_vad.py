"""Turn detection on scripted frames (a fake classifier) and on real speech (webrtcvad)."""

from __future__ import annotations

from engine.turns.detector import FRAME_BYTES, SpeechAudio, SpeechEnded, SpeechStarted, TurnConfig, TurnDetector
from tests.client import load_speech
from utils.audio import StreamResampler

VOICED = b"\x01\x00" * (FRAME_BYTES // 2)
SILENT = bytes(FRAME_BYTES)


def scripted() -> TurnDetector:
    config = TurnConfig(start_ms=60, end_silence_ms=200, preroll_ms=300, max_utterance_ms=2000)
    return TurnDetector(config, is_speech=lambda frame: frame == VOICED)


def feed(detector: TurnDetector, pattern: str) -> list[object]:
    """`pattern`: one character per 20 ms frame, 'v' voiced, '.' silent."""
    events: list[object] = []
    for char in pattern:
        events += detector.push(VOICED if char == "v" else SILENT)
    return events


def test_speech_starts_after_the_voiced_run_with_preroll() -> None:
    detector = scripted()
    assert feed(detector, "." * 30 + "vv") == []
    (started,) = feed(detector, "v")
    assert isinstance(started, SpeechStarted)
    assert len(started.audio) == (15 + 3) * FRAME_BYTES  # 300 ms pre-roll + the 60 ms run
    assert started.audio.endswith(VOICED * 3)


def test_a_short_blip_does_not_start_speech() -> None:
    assert feed(scripted(), "..vv..vv.." * 5) == []


def test_turn_ends_after_the_silence_window_and_counts_voiced_audio() -> None:
    detector = scripted()
    events = feed(detector, "vvv" + "vvvvv.." + "vv" + "." * 10)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SpeechStarted" and kinds.count("SpeechEnded") == 1
    ended = next(e for e in events if isinstance(e, SpeechEnded))
    assert ended.voiced_ms == 200 and not ended.forced
    audio = [e for e in events if isinstance(e, SpeechAudio)]
    assert audio[-1].voiced_ms == 200
    assert not detector.in_speech


def test_a_too_long_turn_is_ended_by_force() -> None:
    events = feed(scripted(), "v" * 120)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == 1 and ended[0].forced and ended[0].duration_ms == 2000


def test_reset_forgets_speech_in_progress() -> None:
    detector = scripted()
    feed(detector, "vvvv")
    detector.reset()
    assert not detector.in_speech and feed(detector, "." * 20) == []


def test_real_speech_is_one_turn_with_webrtcvad() -> None:
    pcm = load_speech("ocean", 24000)
    resampler = StreamResampler(24000, 16000)
    detector = TurnDetector(TurnConfig(aggressiveness=2, start_ms=60, end_silence_ms=600, preroll_ms=300))
    events = []
    for i in range(0, len(pcm), 960):  # 20 ms at 24 kHz
        events += detector.push(resampler.process(pcm[i : i + 960]))
    events += detector.push(bytes(16000 * 2))  # a second of silence
    started = [e for e in events if isinstance(e, SpeechStarted)]
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(started) == 1 and len(ended) == 1
    assert 1500 <= ended[0].voiced_ms <= 3500
