"""The provider contract suite: every provider of every kind passes the same tests.

A case names a provider and the settings that select it; `failing` are settings under
which it must fail with a documented error code. Mock and local providers run here; each
cloud provider joins with a local fake of its wire protocol.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.registry import Kind
from tests.conftest import Config, make_config


@dataclass(frozen=True)
class Case:
    kind: Kind
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    failing: dict[str, Any] = field(default_factory=dict)  # settings that make it fail, with a documented code
    engines: bool = False  # needs the local engines loaded (session fixture)
    saturate: bool = False  # fail it by filling its engine pool instead (its only failure)
    hears: str = ""  # a word an ASR's final must hold (its accuracy is tested elsewhere)

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}"

    def config(self, **overrides: Any) -> Config:
        return make_config(**{f"{self.kind}_provider": self.name, **self.settings, **overrides})

    def build(self, **overrides: Any) -> Any:
        return self.config(**overrides).factory().build(self.kind)


ASR_CASES = [
    Case("asr", "mock", {"mock_asr_script": "tell me about the ocean"}, {"mock_asr_fault": "raise"}, hears="ocean"),
    Case(
        "asr",
        "local",
        {"local_asr_partial_interval_ms": 500},
        {"local_asr_model_path": "/nonexistent"},
        True,
        hears="ocean",
    ),
    Case("asr", "pocketsphinx", {}, {}, True, saturate=True),
]
LLM_CASES = [
    Case("llm", "mock", {"mock_llm_sentences": 3}, {"mock_llm_fault": "rate_limit"}),
    Case("llm", "local", {"local_llm_max_tokens": 40}, {"local_llm_model_path": "/nonexistent/model.gguf"}, True),
]
TTS_CASES = [
    Case("tts", "mock", {}, {"mock_tts_fault": "raise"}),
    Case("tts", "local", {}, {"voice": "emma"}, True),
    Case("tts", "espeak", {}, {"voice": "xx-nonesuch"}),
]


def params(cases: list[Case]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


@pytest.fixture
def engines(request: pytest.FixtureRequest, case: Case) -> None:
    """Load the local engines once, for the cases that need them."""
    if case.engines:
        request.getfixturevalue("warm_engines")


def our_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than the test's own."""
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
