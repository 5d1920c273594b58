"""Whisper-style log-mel features (80 mels x 800 frames for 8 s at 16 kHz), numpy only.

Smart Turn v3 is a Whisper encoder: it wants exactly the features of
`transformers.WhisperFeatureExtractor(chunk_length=8)` with waveform normalization. This is
the numpy transcription Pipecat ships (pipecat/audio/turn/smart_turn/_whisper_features.py,
BSD-2-Clause, Copyright (c) 2024-2026 Daily; derived from Hugging Face Transformers,
Apache-2.0), condensed; a test checks it against that file.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

RATE = 16000
WINDOW_S = 8
N_FFT = 400
HOP = 160
N_MELS = 80


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    mels = 3.0 * freq / 200.0
    log_region = freq >= 1000.0
    mels[log_region] = 15.0 + np.log(freq[log_region] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    freq = 200.0 * mels / 3.0
    log_region = mels >= 15.0
    freq[log_region] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log_region] - 15.0))
    return freq


def _mel_filters() -> np.ndarray:
    """Slaney-normalized triangular filters, shape (N_FFT // 2 + 1, N_MELS)."""
    edges = _hz_to_mel(np.array([0.0, RATE / 2.0]))
    filter_freqs = _mel_to_hz(np.linspace(edges[0], edges[1], N_MELS + 2))
    fft_freqs = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    filter_diff = np.diff(filter_freqs)
    slopes = filter_freqs[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / filter_diff[:-1]
    up = slopes[:, 2:] / filter_diff[1:]
    area = 2.0 / (filter_freqs[2 : N_MELS + 2] - filter_freqs[:N_MELS])
    filters: np.ndarray = np.maximum(0.0, np.minimum(down, up)) * area[None, :]
    return filters


_HANN = np.hanning(N_FFT + 1)[:-1]  # periodic, as torch.hann_window
_FILTERS = _mel_filters()


def last_window(audio: np.ndarray) -> np.ndarray:
    """The last 8 s of `audio`, zero-padded at the front when shorter (what the model was trained on)."""
    size = RATE * WINDOW_S
    if audio.size >= size:
        return audio[-size:]
    return np.pad(audio, (size - audio.size, 0))


def log_mel(audio: np.ndarray) -> np.ndarray:
    """float32 (N_MELS, 800) features of exactly 8 s of float audio at 16 kHz."""
    x = np.asarray(audio, dtype=np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), (N_FFT // 2, N_FFT // 2), mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP]
    power = (np.abs(np.fft.rfft(frames * _HANN, axis=-1)) ** 2).T
    spec = np.log10(np.maximum(1e-10, _FILTERS.T @ power))[:, :-1]
    spec = np.maximum(spec, spec.max() - 8.0)
    features: np.ndarray = ((spec + 4.0) / 4.0).astype(np.float32)
    return features
