"""Resampling of the microphone path and PCM helpers."""

from __future__ import annotations

import numpy as np
import pytest

from utils.audio import FrameSplitter, StreamResampler, bytes_for_ms, duration_ms


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * 10000).astype("<i2")


@pytest.mark.parametrize("rate", [24000, 48000, 16000])
def test_chunked_resampling_keeps_length_and_pitch(rate: int) -> None:
    source = tone(440, rate, 1.0)
    resampler = StreamResampler(rate, 16000)
    chunk = rate // 50  # 20 ms
    out = b"".join(resampler.process(source[i : i + chunk].tobytes()) for i in range(0, len(source), chunk))
    out += resampler.flush()
    samples = np.frombuffer(out, dtype="<i2").astype(float)
    assert len(samples) == 16000  # nothing lost, nothing duplicated
    spectrum = np.abs(np.fft.rfft(samples[1000:-1000]))
    peak_hz = np.argmax(spectrum) * 16000 / len(samples[1000:-1000])
    assert abs(peak_hz - 440) < 2
    # no clicks at chunk edges: the middle matches a tone at 16 kHz closely
    assert np.max(np.abs(np.diff(samples[1000:-1000]))) < 10000 * 2 * np.pi * 440 / 16000 * 1.1


def test_frame_splitter_holds_the_remainder() -> None:
    splitter = FrameSplitter(4)
    assert splitter.push(b"abcdef") == [b"abcd"]
    assert splitter.push(b"gh") == [b"efgh"]
    assert splitter.push(b"i") == []


def test_pcm_helpers() -> None:
    assert bytes_for_ms(20, 16000) == 640 and duration_ms(640, 16000) == 20
    assert bytes_for_ms(10.01, 24000) == 480  # whole samples only
