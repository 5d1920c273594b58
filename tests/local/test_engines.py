"""The offline engines one by one: shared pools that stay bounded, the LLM stopping within
a token, clear errors for missing models and voices, fallbacks that work and clean up."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from typing import cast

import pytest

from services.base import ChatMessage, LLMEvent, TextDelta, TTSChunk
from services.errors import ProviderError, RateLimited
from services.local.engines import EnginePool
from services.local.llm import LlamaLLM
from services.local.settings import LocalEngineSettings, LocalLLMSettings
from services.local.tts import _load
from tests.conftest import BROKEN_GGUF, Config
from tests.local.conftest import local_config, local_provider

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


async def test_local_llm_streams_and_stops_within_one_token(warm_engines: Config) -> None:
    llm: LlamaLLM = local_provider("llm", local_llm_max_tokens=200)
    produced: list[float] = []
    original = llm._completion

    def counting(messages: list[ChatMessage], max_tokens: int, stop: threading.Event) -> Iterator[LLMEvent]:
        for event in original(messages, max_tokens, stop):
            produced.append(time.perf_counter())
            yield event

    llm._completion = counting  # type: ignore[method-assign]
    stream = cast(AsyncGenerator[LLMEvent, None], llm.stream(ASK))
    received = [await anext(stream) for _ in range(5)]
    assert "".join(e.text for e in received if isinstance(e, TextDelta)).strip()
    stopped_at = time.perf_counter()
    await stream.aclose()
    async with asyncio.timeout(2):
        while not llm.pool.idle:
            await asyncio.sleep(0.005)
    after_stop = [t for t in produced if t > stopped_at]
    assert len(after_stop) <= 1, f"{len(after_stop)} tokens generated after the stop"


async def test_local_llm_keeps_sessions_in_line_on_one_model(warm_engines: Config) -> None:
    llm: LlamaLLM = local_provider("llm", local_llm_max_tokens=12)

    async def reply() -> str:
        return "".join([e.text async for e in llm.stream(ASK) if isinstance(e, TextDelta)])

    replies = await asyncio.gather(reply(), reply(), reply())
    assert all(text.strip() for text in replies)


def test_a_missing_gguf_stops_the_server_naming_the_variable() -> None:
    config = local_config(local_llm_model_path="/nonexistent/model.gguf")
    [problem] = config.factory().problems()
    assert str(problem) == "LOCAL_LLM_MODEL_PATH='/nonexistent/model.gguf': no such GGUF file"


def test_a_gguf_that_cannot_load_is_a_clear_error() -> None:
    config = local_config(local_llm_model_path=BROKEN_GGUF)
    with pytest.raises(ProviderError, match=rf"the GGUF model at '{BROKEN_GGUF}' could not be loaded"):
        LlamaLLM.warm_up(config.provider(LocalLLMSettings), config.provider(LocalEngineSettings))


def test_a_voice_that_would_download_is_refused() -> None:
    with pytest.raises(ProviderError, match="voice 'emma' is not bundled"):
        _load("emma")


async def espeak_children() -> int:
    process = await asyncio.create_subprocess_exec("pgrep", "-c", "-x", "espeak-ng", stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return int(out or 0)


async def test_espeak_leaves_no_process_when_cut() -> None:
    tts = local_provider("tts", tts_provider="espeak")
    stream = cast(
        AsyncGenerator[TTSChunk, None],
        tts.synthesize("A long sentence. " * 200, voice="", language="en-US", sample_rate=24000),
    )
    await anext(stream)
    await stream.aclose()  # the reply was cut: the process is killed and reaped
    assert await espeak_children() == 0


async def test_espeak_unknown_voice_is_a_clear_error() -> None:
    tts = local_provider("tts", tts_provider="espeak")
    with pytest.raises(ProviderError, match="espeak-ng"):
        async for _ in tts.synthesize("Hello.", voice="xx-nonesuch", language="en-US", sample_rate=24000):
            pass


def test_models_load_once_per_process_and_are_shared_by_sessions(warm_engines: Config) -> None:
    factory = warm_engines.factory()
    first, second = factory.for_session(), factory.for_session()
    assert first.asr is not second.asr, "each session has its own provider objects"
    assert first.asr.model is second.asr.model and first.asr.model.loaded  # type: ignore[attr-defined]
    assert first.asr.pool is second.asr.pool  # type: ignore[attr-defined]
    assert first.llm.model.get() is second.llm.model.get()  # type: ignore[attr-defined]
    assert first.tts.model("").get() is second.tts.model("heart").get()  # type: ignore[attr-defined]
