"""ASR contract: partials, exactly one final, then the end; a close that is idempotent, bounded
and leaves no task; failures as documented error codes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from services.base import ASRResult, ASRStream
from services.errors import ProviderError
from tests.contract.conftest import ASR_CASES, Case, our_tasks, params
from tests.local.conftest import synthesize
from websocket.parley.messages import ERROR_CODES

pytestmark = [params(ASR_CASES), pytest.mark.usefixtures("engines")]
FRAME = 640  # 20 ms at 16 kHz


def speech(asr: Any) -> bytes:
    return synthesize("Hello there. Tell me about the ocean and the ships on it.", asr.capabilities.sample_rate)


async def feed(stream: ASRStream, audio: bytes, realtime: bool = True) -> None:
    for offset in range(0, len(audio), FRAME):
        stream.push(audio[offset : offset + FRAME])
        if realtime:
            await asyncio.sleep(0.02)


async def test_partials_then_exactly_one_final_then_the_end(case: Case) -> None:
    asr = case.build()
    stream = asr.open_stream("en-US")
    results: list[ASRResult] = []

    async def read() -> None:
        results.extend([result async for result in stream.results()])

    reader = asyncio.create_task(read())
    await feed(stream, speech(asr))
    stream.finish()
    await asyncio.wait_for(reader, 20)
    await stream.aclose()
    assert [r.is_final for r in results].count(True) == 1 and results[-1].is_final
    assert any(not r.is_final and r.text for r in results) == case.partials, "partials as the provider gives them"
    assert results[-1].text.strip() and case.hears in results[-1].text.lower()


async def test_close_is_idempotent_bounded_and_leaves_no_task(case: Case) -> None:
    asr = case.build()
    before = our_tasks()
    stream = asr.open_stream("en-US")
    reader = asyncio.create_task(first_result(stream))
    await feed(stream, speech(asr)[: FRAME * 40], realtime=False)
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await stream.aclose()  # early: mid-utterance, never finished
    await stream.aclose()
    assert loop.time() - started < 1.5, "the close is bounded"
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await asyncio.sleep(0.05)
    assert our_tasks() - before == set(), "nothing of the stream is left running"


async def test_a_failure_is_a_documented_error(case: Case) -> None:
    asr = case.build(**case.failing)
    release = threading.Event()
    blockers = saturate(asr, release) if case.saturate else []
    stream = asr.open_stream("en-US")
    try:
        await feed(stream, speech(asr)[: FRAME * 50], realtime=False)
        stream.finish()
        with pytest.raises(ProviderError) as raised:
            async with asyncio.timeout(20):
                async for _ in stream.results():
                    pass
        assert raised.value.code in ERROR_CODES and raised.value.stage == "asr"
    finally:
        release.set()
        await stream.aclose()
        await asyncio.gather(*blockers, return_exceptions=True)


async def first_result(stream: ASRStream) -> ASRResult | None:
    return await anext(aiter(stream.results()), None)


def saturate(provider: Any, release: threading.Event) -> list[asyncio.Future[Any]]:
    """Fill the provider's engine pool with work that waits for `release`."""
    pool = provider.pool
    return [asyncio.ensure_future(pool.run("asr", release.wait, 10)) for _ in range(pool.workers + pool.max_pending)]
