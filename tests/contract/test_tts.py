"""TTS contract: even-length PCM16 at the requested rate, word timings when declared; a stream
closed early stops within its bound and leaves nothing running; failures as documented codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import cast

import pytest

from services.base import TTSChunk
from services.errors import ProviderError
from tests.contract.conftest import TTS_CASES, Case, our_tasks, params
from websocket.parley.messages import ERROR_CODES

pytestmark = [params(TTS_CASES), pytest.mark.usefixtures("engines")]
TEXT = "The ships sail on the ocean, and they come home at night."


async def spoken_seconds(case: Case, rate: int) -> tuple[float, list[TTSChunk]]:
    tts = case.build()
    chunks = [c async for c in tts.synthesize(TEXT, voice="", language="en-US", sample_rate=rate)]
    assert chunks and all(len(c.pcm) % 2 == 0 and c.pcm for c in chunks), "non-empty, whole PCM16 samples"
    return sum(len(c.pcm) for c in chunks) / 2 / rate, chunks


async def test_pcm16_at_the_requested_rate(case: Case) -> None:
    at_16k, _ = await spoken_seconds(case, 16000)
    at_24k, chunks = await spoken_seconds(case, 24000)
    assert 0.5 < at_24k < 10, "a sentence's worth of speech"
    assert at_16k == pytest.approx(at_24k, rel=0.2), "the same speech whatever the rate"
    if case.build().capabilities.word_timings:
        words = [w for c in chunks for w in c.words]
        assert [w.word for w in words] == TEXT.split()
        assert all(0 <= w.start_ms < w.end_ms <= at_24k * 1000 + 1 for w in words)


async def test_a_stream_closed_early_stops_within_its_bound(case: Case) -> None:
    tts = case.build()
    before = our_tasks()
    stream = cast(
        AsyncGenerator[TTSChunk, None], tts.synthesize(TEXT * 20, voice="", language="en-US", sample_rate=24000)
    )
    await anext(stream)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await stream.aclose()
    assert loop.time() - started < 1.0
    await asyncio.sleep(0.1)
    assert our_tasks() - before == set()


async def test_a_failure_is_a_documented_error(case: Case) -> None:
    tts = case.build(**case.failing)
    voice = str(case.failing.get("voice", ""))
    with pytest.raises(ProviderError) as raised:
        async with asyncio.timeout(20):
            async for _ in tts.synthesize(TEXT, voice=voice, language="en-US", sample_rate=24000):
                pass
    assert raised.value.code in ERROR_CODES and raised.value.stage == "tts"
