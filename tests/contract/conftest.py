"""The provider contract suite: every provider of every kind passes the same tests.

A case names a provider and the settings that select it; `failing` are settings under
which it must fail with a documented error code. Mock and local providers run here, the
HTTP cloud providers against local fakes of their wire protocols (tests/fakes/), and Azure
Speech around a simulated service behind the SDK's handles (its SDK speaks a protocol of
its own; tests/cloud/ drives its event logic with constructed SDK events).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.registry import Kind, ProviderFactory
from tests.conftest import BROKEN_GGUF, Config, make_config
from tests.fakes.azure_sim import simulated_asr, simulated_tts
from tests.fakes.cloud import running_cloud


@dataclass(frozen=True)
class Case:
    kind: Kind
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    failing: dict[str, Any] = field(default_factory=dict)  # settings that make it fail, with a documented code
    engines: bool = False  # needs the local engines loaded (session fixture)
    saturate: bool = False  # fail it by filling its engine pool instead (its only failure)
    hears: str = ""  # a word an ASR's final must hold (its accuracy is tested elsewhere)
    cloud: bool = False  # talks to the fake cloud (tests/fakes/)
    partials: bool = True  # an ASR that gives partials
    simulated: Callable[[dict[str, Any]], Any] | None = None  # built around a simulated service instead

    @property
    def id(self) -> str:
        model = next((str(v) for k, v in self.settings.items() if k.endswith("_model")), "")
        return f"{self.kind}-{self.name}" + (f"-{model}" if model else "")

    def config(self, **overrides: Any) -> Config:
        cloud = running_cloud().settings() if self.cloud else {}
        return make_config(**{f"{self.kind}_provider": self.name, **cloud, **self.settings, **overrides})

    def build(self, **overrides: Any) -> Any:
        if self.simulated is not None:
            return self.simulated({**self.settings, **overrides})
        factory = self.config(**overrides).factory()
        OPEN_FACTORIES.append(factory)  # its pooled clients are closed after the test
        return factory.build(self.kind)


ASR_CASES = [
    Case("asr", "openai", {}, {"openai_api_key": "sk-wrong-key-000000"}, cloud=True, hears="ocean"),
    Case(
        "asr",
        "openai",
        {"openai_asr_model": "whisper-1"},
        {"openai_api_key": "sk-wrong-key-000000"},
        cloud=True,
        hears="ocean",
        partials=False,
    ),
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
    Case("asr", "azure", {}, {"azure_speech_key": "wrong-key-000000"}, hears="ocean", simulated=simulated_asr),
]
LLM_CASES = [
    Case("llm", "openai", {}, {"openai_api_key": "sk-wrong-key-000000"}, cloud=True),
    Case("llm", "azure_openai", {}, {"azure_openai_api_key": "wrong-key-000000"}, cloud=True),
    Case("llm", "mock", {"mock_llm_sentences": 3}, {"mock_llm_fault": "rate_limit"}),
    Case("llm", "local", {"local_llm_max_tokens": 40}, {"local_llm_model_path": BROKEN_GGUF}, True),
]
TTS_CASES = [
    Case("tts", "openai", {}, {"openai_api_key": "sk-wrong-key-000000"}, cloud=True),
    Case("tts", "minimax", {}, {"minimax_group_id": "another-group"}, cloud=True),
    Case("tts", "mock", {}, {"mock_tts_fault": "raise"}),
    Case("tts", "local", {}, {"voice": "emma"}, True),
    Case("tts", "espeak", {}, {"voice": "xx-nonesuch"}),
    Case("tts", "azure", {}, {"azure_speech_key": "wrong-key-000000"}, simulated=simulated_tts),
]


def params(cases: list[Case]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


OPEN_FACTORIES: list[ProviderFactory] = []


@pytest.fixture(autouse=True)
async def _close_pooled_clients() -> AsyncIterator[None]:
    yield
    while OPEN_FACTORIES:
        await OPEN_FACTORIES.pop().aclose()


@pytest.fixture
def engines(request: pytest.FixtureRequest, case: Case) -> None:
    """Load the local engines once, for the cases that need them."""
    if case.engines:
        request.getfixturevalue("warm_engines")


def our_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than the test's own."""
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
