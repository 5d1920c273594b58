"""Providers against the fake cloud: each test builds its provider from the fake's settings
(plus overrides) and closes the pooled clients afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.registry import Kind, ProviderFactory
from tests.conftest import make_config
from tests.fakes.cloud import FakeCloud

Build = Callable[..., Any]


@pytest.fixture
async def build(cloud: FakeCloud) -> AsyncIterator[Build]:
    """`build("llm", "openai", openai_retries=0, ...)`: a provider pointed at the fake cloud."""
    factories: list[ProviderFactory] = []

    def make(kind: Kind, name: str, **overrides: Any) -> Any:
        factory = make_config(**{f"{kind}_provider": name, **cloud.settings(), **overrides}).factory()
        factories.append(factory)
        return factory.build(kind)

    yield make
    for factory in factories:
        await factory.aclose()
