"""Fixtures for the offline engines: settings that select them, and speech made by the
local TTS (a natural voice, unlike the espeak-ng WAVs of the other tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import soxr

from services.local.tts import HibariTTS, to_pcm16
from services.registry import Kind
from tests.conftest import LOCAL, local_config, warm_engines

__all__ = ["LOCAL", "local_config", "local_provider", "synthesize", "synthesize_async", "warm_engines"]


def local_provider(kind: Kind, **overrides: Any) -> Any:
    """A new provider object of `kind` on the offline engines, with setting overrides."""
    return local_config(**overrides).factory().build(kind)


def synthesize(text: str, rate: int) -> bytes:
    """`text` spoken by hibari's bundled voice, as PCM16 at `rate`."""
    tts: HibariTTS = local_provider("tts")
    audio = tts.model("").get()(text, seed=1)
    if rate != 24000:
        audio = soxr.resample(audio, 24000, rate)
    return to_pcm16(audio)


async def synthesize_async(text: str, rate: int) -> bytes:
    return await asyncio.to_thread(synthesize, text, rate)
