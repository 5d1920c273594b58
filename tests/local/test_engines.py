"""The offline engines one by one: shared pools that stay bounded, the LLM stopping within
a token, clear errors for missing models and voices, fallbacks that work and clean up."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from typing import cast

import pytest

from config import Settings
from services.asr.local import LocalASR
from services.asr.pocketsphinx import PocketsphinxASR
from services.base import ChatMessage, TTSChunk
from services.engines import EnginePool
from services.errors import ProviderError, RateLimited
from services.llm.local import LocalLLM
from services.tts.espeak import EspeakTTS
from services.tts.local import LocalTTS, _load
from tests.local.conftest import local_settings, synthesize
from tests.wer import word_error_rate

ASK: list[ChatMessage] = [{"role": "user", "content": "Tell me a long story about a dragon."}]


async def test_engine_pool_runs_off_the_loop_and_refuses_work_beyond_its_bound() -> None:
    pool = EnginePool("test", workers=1, max_pending=1)
    release = threading.Event()
    loop_thread = threading.get_ident()
    first = asyncio.ensure_future(pool.run("asr", lambda: (release.wait(5), threading.get_ident())[1]))
    queued = asyncio.ensure_future(pool.run("asr", lambda: 2))
    await asyncio.sleep(0.05)
    assert not pool.idle and pool.outstanding == 2
    with pytest.raises(RateLimited):
        await pool.run("asr", lambda: 3)
    queued.cancel()  # a queued call that is cancelled never runs and frees its place
    await asyncio.sleep(0.05)
    assert pool.outstanding == 1
    release.set()
    assert await first != loop_thread
    await asyncio.sleep(0.05)
    assert pool.idle and pool.outstanding == 0


async def test_local_llm_streams_and_stops_within_one_token(warm_engines: Settings) -> None:
    llm = LocalLLM(local_settings(local_llm_max_tokens=200))
    produced: list[float] = []
    original = llm._completion

    def counting(messages: list[ChatMessage], max_tokens: int) -> Iterator[str]:
        for delta in original(messages, max_tokens):
            produced.append(time.perf_counter())
            yield delta

    llm._completion = counting  # type: ignore[method-assign]
    stream = cast(AsyncGenerator[str, None], llm.stream(ASK))
    received = [await anext(stream) for _ in range(5)]
    assert "".join(received).strip()
    stopped_at = time.perf_counter()
    await stream.aclose()
    async with asyncio.timeout(2):
        while not llm.pool.idle:
            await asyncio.sleep(0.005)
    after_stop = [t for t in produced if t > stopped_at]
    assert len(after_stop) <= 1, f"{len(after_stop)} tokens generated after the stop"


async def test_local_llm_keeps_sessions_in_line_on_one_model(warm_engines: Settings) -> None:
    llm = LocalLLM(local_settings(local_llm_max_tokens=12))

    async def reply() -> str:
        return "".join([delta async for delta in llm.stream(ASK)])

    replies = await asyncio.gather(reply(), reply(), reply())
    assert all(text.strip() for text in replies)


def test_a_missing_gguf_is_a_clear_error() -> None:
    with pytest.raises(ProviderError, match=r"no GGUF model at '/nonexistent/model\.gguf'"):
        LocalLLM.warm_up(local_settings(local_llm_model_path="/nonexistent/model.gguf"))


def test_a_voice_that_would_download_is_refused() -> None:
    with pytest.raises(ProviderError, match="voice 'emma' is not bundled"):
        _load("emma")


async def test_local_tts_streams_audio_at_the_requested_rate(warm_engines: Settings) -> None:
    tts = LocalTTS(warm_engines)
    text = "The ships sail on the ocean. They come home at night."
    native = await asyncio.to_thread(lambda: len(tts.model("").get()(text, seed=1)) / 24000)
    chunks = [c async for c in tts.synthesize(text, voice="", language="en-US", sample_rate=16000)]
    seconds = sum(len(c.pcm) for c in chunks) / 2 / 16000
    assert len(chunks) > 5 and all(len(c.pcm) % 2 == 0 for c in chunks)
    assert abs(seconds - native) < 0.6  # the same speech, give or take hibari's random phrasing


async def test_local_asr_stream_gives_partials_then_the_final(warm_engines: Settings) -> None:
    sentence = "Please set a timer for fifteen minutes and remind me to call Peter."
    audio = synthesize(sentence, 16000)
    stream = LocalASR(local_settings(local_asr_partial_interval_ms=500)).open_stream("en-US")
    results = []

    async def read() -> None:
        async for result in stream.results():
            results.append(result)

    reader = asyncio.create_task(read())
    for offset in range(0, len(audio), 640):
        stream.push(audio[offset : offset + 640])
        await asyncio.sleep(0.02)
    stream.finish()
    await asyncio.wait_for(reader, 10)
    await stream.aclose()
    assert [r.is_final for r in results][-1] is True and sum(r.is_final for r in results) == 1
    assert any(not r.is_final for r in results), "partials while audio streams"
    assert word_error_rate([(sentence, results[-1].text)]) <= 0.1


async def test_pocketsphinx_fallback_streams_partials_and_a_final() -> None:
    settings = local_settings(asr_provider="pocketsphinx")
    PocketsphinxASR.warm_up(settings)
    audio = synthesize("Hello, what is the weather like today?", 16000)
    stream = PocketsphinxASR(settings).open_stream("en-US")
    for offset in range(0, len(audio), 640):
        stream.push(audio[offset : offset + 640])
    stream.finish()
    results = [r async for r in stream.results()]
    await stream.aclose()
    assert results[-1].is_final and results[-1].text
    assert word_error_rate([("what is the weather like today", results[-1].text)]) < 0.7


async def espeak_children() -> int:
    process = await asyncio.create_subprocess_exec("pgrep", "-c", "-x", "espeak-ng", stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return int(out or 0)


async def test_espeak_fallback_streams_audio_and_leaves_no_process_when_cut() -> None:
    tts = EspeakTTS(local_settings(tts_provider="espeak"))
    chunks = [c async for c in tts.synthesize("Hello there.", voice="", language="en-US", sample_rate=24000)]
    assert sum(len(c.pcm) for c in chunks) / 2 / 24000 > 0.4
    stream = cast(
        AsyncGenerator[TTSChunk, None],
        tts.synthesize("A long sentence. " * 200, voice="", language="en-US", sample_rate=24000),
    )
    await anext(stream)
    await stream.aclose()  # the reply was cut: the process is killed and reaped
    assert await espeak_children() == 0


async def test_espeak_unknown_voice_is_a_clear_error() -> None:
    tts = EspeakTTS(local_settings(tts_provider="espeak"))
    with pytest.raises(ProviderError, match="espeak-ng"):
        async for _ in tts.synthesize("Hello.", voice="xx-nonesuch", language="en-US", sample_rate=24000):
            pass


def test_models_load_once_per_process_and_are_shared_by_sessions(warm_engines: Settings) -> None:
    first, second = LocalASR(warm_engines), LocalASR(warm_engines)
    assert first.model is second.model and first.model.loaded and first.pool is second.pool
    assert LocalLLM(warm_engines).model.get() is LocalLLM(warm_engines).model.get()
    assert LocalTTS(warm_engines).model("").get() is LocalTTS(warm_engines).model("heart").get()
