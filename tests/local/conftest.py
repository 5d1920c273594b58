"""Fixtures for the offline engines: settings that select them, and speech made by the
local TTS (a natural voice, unlike the espeak-ng WAVs of the other tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import soxr

from config import Settings
from services import registry
from services.tts.local import LocalTTS
from tests.conftest import make_settings

LOCAL: dict[str, Any] = {"asr_provider": "local", "llm_provider": "local", "tts_provider": "local"}


def local_settings(**overrides: Any) -> Settings:
    return make_settings(**{**LOCAL, **overrides})


@pytest.fixture(scope="session")
def warm_engines() -> Settings:
    """Load and warm every local engine once for the whole test run."""
    settings = local_settings()
    registry.warm_up(settings)
    return settings


def synthesize(text: str, rate: int) -> bytes:
    """`text` spoken by hibari's bundled voice, as PCM16 at `rate`."""
    tts = LocalTTS(local_settings())
    audio = tts.model("").get()(text, seed=1)
    if rate != 24000:
        audio = soxr.resample(audio, 24000, rate)
    pcm: bytes = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return pcm


async def synthesize_async(text: str, rate: int) -> bytes:
    return await asyncio.to_thread(synthesize, text, rate)
