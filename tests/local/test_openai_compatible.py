"""The openai LLM provider against a real OpenAI-compatible server: llama.cpp's, on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import cast

from services.base import ChatMessage, Finish, LLMEvent, TextDelta
from tests.conftest import make_config
from tests.local.llama_server import llama_server

__all__ = ["llama_server"]
ASK: list[ChatMessage] = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


async def test_a_reply_streams_from_llama_cpps_openai_compatible_server(llama_server: str) -> None:
    factory = make_config(llm_provider="openai", openai_base_url=llama_server, openai_llm_max_tokens=40).factory()
    try:
        llm = factory.build("llm")
        loop = asyncio.get_running_loop()
        started, arrivals, events = loop.time(), [], []
        async for event in llm.stream(ASK):
            arrivals.append(loop.time() - started)
            events.append(event)
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        assert text.strip() and isinstance(events[-1], Finish)
        assert len([e for e in events if isinstance(e, TextDelta)]) > 3, "streamed token by token"
        print(f"llama.cpp server: first token {arrivals[0] * 1000:.0f} ms, {len(events)} events: {text!r}")

        stream = cast(AsyncGenerator[LLMEvent, None], llm.stream(ASK))
        await anext(stream)
        await asyncio.wait_for(stream.aclose(), 1.0)  # closed early: the connection is let go at once
    finally:
        await factory.aclose()
