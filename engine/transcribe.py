"""Transcribe a buffer of audio the client committed itself (no turn detection involved)."""

from __future__ import annotations

import asyncio

from services.base import ASR
from services.errors import ProviderError, ProviderTimeout
from utils.aio import bounded
from utils.audio import StreamResampler, bytes_for_ms

CHUNK_MS = 100
CLOSE_BOUND_S = 1.0


async def transcribe(asr: ASR, pcm: bytes, sample_rate: int, language: str, timeout_s: float) -> str:
    """The final transcript of `pcm` (PCM16 at `sample_rate`); ProviderError on failure or timeout."""
    rate = asr.capabilities.sample_rate
    if rate != sample_rate:
        resampler = StreamResampler(sample_rate, rate)
        pcm = resampler.process(pcm) + resampler.flush()
    stream = asr.open_stream(language)
    step = bytes_for_ms(CHUNK_MS, rate)
    try:
        for start in range(0, len(pcm), step):
            stream.push(pcm[start : start + step])
        stream.finish()
        async with asyncio.timeout(timeout_s):
            async for result in stream.results():
                if result.is_final:
                    return result.text.strip()
        return ""
    except TimeoutError:
        raise ProviderTimeout("asr", f"no final transcript within {timeout_s:g} s") from None
    except ProviderError:
        raise
    except Exception as error:
        raise ProviderError("asr", "speech recognition failed") from error
    finally:
        await bounded(stream.aclose(), CLOSE_BOUND_S, "ASR stream close")
