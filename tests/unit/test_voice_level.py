"""The silence the end-of-turn watch counts: from where the voice really ended, whatever the
speech gate's hangover, unless noise keeps the level up (then the gate's own count stands)."""

from __future__ import annotations

import numpy as np

from engine.turns.voice_level import LEVEL_DROP_DB, MAX_LAG_MS, VoiceLevel

RATE = 16000


def tone(ms: int, dbfs: float) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return (np.sin(2 * np.pi * 220 * t) * 32767 * 10 ** (dbfs / 20)).astype("<i2").tobytes()


def heard(*parts: bytes) -> VoiceLevel:
    level = VoiceLevel()
    for part in parts:
        for start in range(0, len(part), 640):
            level.push(part[start : start + 640])
    return level


def test_the_quiet_counts_from_the_last_frame_near_the_voices_peak() -> None:
    level = heard(tone(400, -12), tone(200, -30), bytes(120 * 32))
    assert level.quiet_ms == 120, "a voice 18 dB down is still the voice; digital silence is not"


def test_a_level_far_enough_under_the_peak_is_quiet() -> None:
    level = heard(tone(400, -6), tone(100, -6 - LEVEL_DROP_DB - 3))
    assert level.quiet_ms == 100


def test_the_correction_never_shortens_the_gates_silence_and_adds_at_most_its_bound() -> None:
    level = heard(tone(400, -12), bytes(400 * 32))
    assert level.silence_ms(0) == 0, "while the gate hears speech there is no silence"
    assert level.silence_ms(120) == 120 + min(400 - 120, MAX_LAG_MS)
    assert level.silence_ms(300) == 400, "the voice ended 400 ms ago, within the bound of the gate's 300"
    noisy = heard(tone(400, -12), tone(400, -30))
    assert noisy.silence_ms(80) == 80, "noise near the voice's level: the gate's count stands"


def test_odd_lengths_and_an_empty_push_are_taken() -> None:
    level = heard(tone(400, -12), bytes(101))
    level.push(b"")
    assert level.quiet_ms == 3  # 100 bytes: one short frame of 50 samples
