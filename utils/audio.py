"""PCM16 helpers and the stateful resampler of the microphone path."""

from __future__ import annotations

import numpy as np
import soxr

BYTES_PER_SAMPLE = 2


def duration_ms(num_bytes: int, sample_rate: int) -> float:
    """Duration of mono PCM16 audio of `num_bytes` bytes."""
    return num_bytes / BYTES_PER_SAMPLE / sample_rate * 1000.0


def bytes_for_ms(ms: float, sample_rate: int) -> int:
    """Byte count of `ms` milliseconds of mono PCM16, rounded down to whole samples."""
    return int(sample_rate * ms / 1000.0) * BYTES_PER_SAMPLE


class StreamResampler:
    """Resamples a PCM16 stream chunk by chunk.

    soxr keeps filter state between chunks, so chunk edges add no clicks and no samples
    are lost or duplicated; `flush()` returns the tail still held in the filter.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = self._new_stream()

    def _new_stream(self) -> soxr.ResampleStream | None:
        if self.in_rate == self.out_rate:
            return None
        return soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="int16", quality="HQ")

    def process(self, pcm: bytes) -> bytes:
        if self._stream is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        out: np.ndarray = self._stream.resample_chunk(samples, last=False)
        return out.astype("<i2").tobytes()

    def flush(self) -> bytes:
        if self._stream is None:
            return b""
        out: np.ndarray = self._stream.resample_chunk(np.zeros(0, dtype="<i2"), last=True)
        self._stream = self._new_stream()
        return out.astype("<i2").tobytes()


class FrameSplitter:
    """Cuts a byte stream into fixed-size frames, holding the remainder for the next push."""

    def __init__(self, frame_bytes: int) -> None:
        self.frame_bytes = frame_bytes
        self._pending = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        self._pending.extend(data)
        count = len(self._pending) // self.frame_bytes
        frames = [bytes(self._pending[i * self.frame_bytes : (i + 1) * self.frame_bytes]) for i in range(count)]
        del self._pending[: count * self.frame_bytes]
        return frames

    def clear(self) -> None:
        self._pending.clear()


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """Mono PCM16 as a WAV file in memory (for APIs that take audio files)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(BYTES_PER_SAMPLE)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


class EvenBytes:
    """Cuts a byte stream at whole PCM16 samples, holding back an odd trailing byte."""

    def __init__(self) -> None:
        self._odd = b""

    def __call__(self, data: bytes) -> bytes:
        data, self._odd = self._odd + data, b""
        if len(data) % 2:
            data, self._odd = data[:-1], data[-1:]
        return data
