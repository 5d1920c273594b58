"""Fixtures for the offline engines: settings that select them, and speech made by the
local TTS (a natural voice, unlike the espeak-ng WAVs of the other tests)."""

from __future__ import annotations

import asyncio

import soxr

from services.tts.local import LocalTTS, to_pcm16
from tests.conftest import LOCAL, local_settings, warm_engines

__all__ = ["LOCAL", "local_settings", "synthesize", "synthesize_async", "warm_engines"]


def synthesize(text: str, rate: int) -> bytes:
    """`text` spoken by hibari's bundled voice, as PCM16 at `rate`."""
    tts = LocalTTS(local_settings())
    audio = tts.model("").get()(text, seed=1)
    if rate != 24000:
        audio = soxr.resample(audio, 24000, rate)
    return to_pcm16(audio)


async def synthesize_async(text: str, rate: int) -> bytes:
    return await asyncio.to_thread(synthesize, text, rate)
