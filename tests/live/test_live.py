"""The cloud providers against the real services. Each test runs only when its keys are set
(in the environment or .env), so CI, which has neither network nor keys, skips them all.

    OPENAI_API_KEY=... AZURE_SPEECH_KEY=... AZURE_SPEECH_REGION=... bash scripts/test.sh tests/live
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from dotenv import dotenv_values

from config import Settings as ServerSettings, load_settings
from services.base import ChatMessage, Finish, TextDelta
from services.registry import Kind, ProviderFactory
from tests.local.conftest import synthesize

KEYS = {**{k: v for k, v in dotenv_values(".env").items() if v}, **os.environ}
NEEDS = {
    "openai": ["OPENAI_API_KEY"],
    "azure_openai": ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT"],
    "azure": ["AZURE_SPEECH_KEY"],
    "minimax": ["MINIMAX_API_KEY", "MINIMAX_GROUP_ID"],
}


def live(name: str) -> pytest.MarkDecorator:
    missing = [key for key in NEEDS[name] if not KEYS.get(key)]
    return pytest.mark.skipif(bool(missing), reason=f"set {', '.join(missing)} to test against the real service")


@pytest.fixture
async def real() -> AsyncIterator[Any]:
    factories: list[ProviderFactory] = []

    def build(kind: Kind, name: str) -> Any:
        factory = ProviderFactory(load_settings(ServerSettings, **{f"{kind}_provider": name}))
        factories.append(factory)
        return factory.build(kind)

    yield build
    for factory in factories:
        await factory.aclose()


ASK: list[ChatMessage] = [{"role": "user", "content": "Say hello in three words."}]


@pytest.mark.parametrize("name", [pytest.param(n, marks=live(n)) for n in ("openai", "azure_openai")])
async def test_llm(real: Any, name: str) -> None:
    events = [event async for event in real("llm", name).stream(ASK)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip() and isinstance(events[-1], Finish)


@pytest.mark.parametrize("name", [pytest.param(n, marks=live(n)) for n in ("openai", "azure")])
async def test_asr(real: Any, name: str) -> None:
    asr = real("asr", name)
    audio = synthesize("Please tell me about the ocean and the ships on it.", asr.capabilities.sample_rate)
    if asr.capabilities.session_stream:
        asr.open_session("en-US")
    stream = asr.open_stream("en-US")
    for offset in range(0, len(audio), 640):
        stream.push(audio[offset : offset + 640])
    stream.push(bytes(32000))
    stream.finish()
    results = [result async for result in stream.results()]
    await stream.aclose()
    if hasattr(asr, "aclose"):
        await asr.aclose()
    assert "ocean" in results[-1].text.lower() and results[-1].is_final


@pytest.mark.parametrize("name", [pytest.param(n, marks=live(n)) for n in ("openai", "azure", "minimax")])
async def test_tts(real: Any, name: str) -> None:
    tts = real("tts", name)
    chunks = [c async for c in tts.synthesize("Hello from Parley.", voice="", language="en-US", sample_rate=24000)]
    assert sum(len(c.pcm) for c in chunks) / 2 / 24000 > 0.5
    if hasattr(tts, "aclose"):
        await tts.aclose()
