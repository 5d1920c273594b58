"""LLM contract: text deltas, then exactly one Finish as the last event; a stream closed early
stops within its bound; failures as documented error codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import cast

import pytest

from services.base import ChatMessage, Finish, LLMEvent, TextDelta, Usage
from services.errors import ProviderError
from tests.contract.conftest import LLM_CASES, Case, our_tasks, params
from websocket.parley.messages import ERROR_CODES

pytestmark = [params(LLM_CASES), pytest.mark.usefixtures("engines")]
ASK: list[ChatMessage] = [
    {"role": "system", "content": "You are brief."},
    {"role": "user", "content": "Tell me a long story about the ocean."},
]


async def test_text_deltas_then_one_finish_last(case: Case) -> None:
    events = [event async for event in case.build().stream(ASK)]
    assert any(isinstance(e, TextDelta) and e.text.strip() for e in events)
    assert [isinstance(e, Finish) for e in events].count(True) == 1 and isinstance(events[-1], Finish)
    assert all(isinstance(e, TextDelta | Usage | Finish) for e in events)


async def test_a_stream_closed_early_stops_within_its_bound(case: Case) -> None:
    llm = case.build()
    before = our_tasks()
    stream = cast(AsyncGenerator[LLMEvent, None], llm.stream(ASK))
    await anext(stream)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await stream.aclose()
    assert loop.time() - started < 1.0
    await asyncio.sleep(0.3)
    assert our_tasks() - before == set()
    pool = getattr(llm, "pool", None)
    assert pool is None or pool.outstanding == 0, "the engine stopped generating"


async def test_a_failure_is_a_documented_error(case: Case) -> None:
    with pytest.raises(ProviderError) as raised:
        async with asyncio.timeout(20):
            async for _ in case.build(**case.failing).stream(ASK):
                pass
    assert raised.value.code in ERROR_CODES and raised.value.stage == "llm"
