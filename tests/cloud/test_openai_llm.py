"""The OpenAI LLM provider against a fake of the chat completions API: streaming, typed events,
retries only before the first token, timeouts per read, errors as documented codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import cast

import pytest

from services.base import ChatMessage, Finish, LLMEvent, TextDelta, ToolCallDelta, Usage
from services.errors import ProviderError
from tests.cloud.conftest import Build
from tests.fakes.behaviour import Behaviour
from tests.fakes.cloud import OPENAI_KEY, FakeCloud

ASK: list[ChatMessage] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]


async def events_of(llm: object) -> list[LLMEvent]:
    return [event async for event in llm.stream(ASK)]  # type: ignore[attr-defined]


async def test_text_streams_with_usage_and_one_finish(cloud: FakeCloud, build: Build) -> None:
    events = await events_of(build("llm", "openai", openai_llm_model="gpt-fake", openai_llm_max_tokens=77))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == 'You said: "hello there". This is turn 1 of our conversation.'
    assert events[-2:] == [Usage(12, len(text.split(" "))), Finish("stop")]
    (call,) = cloud.script.of("chat")
    assert call.body["stream"] is True and call.body["stream_options"] == {"include_usage": True}
    assert call.body["model"] == "gpt-fake" and call.body["max_tokens"] == 77 and call.body["messages"] == ASK
    assert call.headers["authorization"] == f"Bearer {OPENAI_KEY}"


async def test_tool_call_deltas_surface_as_typed_events(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(text="TOOL"))
    events = await events_of(build("llm", "openai"))
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert (calls[0].index, calls[0].call_id, calls[0].name) == (0, "call_fake1", "current_time")
    assert "".join(c.arguments for c in calls) == '{"timezone": "UTC"}'
    assert events[-1] == Finish("tool_calls")


async def test_a_rate_limit_is_retried_after_retry_after(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(status=429, retry_after="0.4"))
    events = await events_of(build("llm", "openai"))
    first, second = cloud.script.of("chat")
    assert second.started - first.started >= 0.4, "Retry-After honoured"
    assert isinstance(events[-1], Finish)


async def test_server_errors_are_retried_then_reported(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(status=500), Behaviour(status=503))
    assert isinstance((await events_of(build("llm", "openai", openai_retries=2)))[-1], Finish)
    cloud.script.reset()
    cloud.script.queue("chat", *[Behaviour(status=500)] * 3)
    with pytest.raises(ProviderError) as raised:
        await events_of(build("llm", "openai", openai_retries=2))
    assert raised.value.code == "provider_failed" and "(500)" in str(raised.value)
    assert len(cloud.script.of("chat")) == 3


async def test_a_wrong_key_is_a_clear_error_that_never_shows_the_key(cloud: FakeCloud, build: Build) -> None:
    wrong = "sk-wrong-abcdef0123456789"
    with pytest.raises(ProviderError) as raised:
        await events_of(build("llm", "openai", openai_api_key=wrong))
    assert raised.value.code == "provider_failed" and "credentials" in str(raised.value)
    assert wrong not in str(raised.value) and OPENAI_KEY not in str(raised.value)
    assert len(cloud.script.of("chat")) == 1, "a refused key is not retried"


async def test_a_failure_after_the_first_token_is_not_retried(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(drop_after=3))
    stream = cast(AsyncGenerator[LLMEvent, None], build("llm", "openai").stream(ASK))
    assert isinstance(await anext(stream), TextDelta)
    with pytest.raises(ProviderError) as raised:
        async for _ in stream:
            pass
    assert raised.value.code == "provider_failed" and len(cloud.script.of("chat")) == 1


async def test_an_error_event_mid_stream_ends_the_reply_with_an_error(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(error_event_after=4))
    with pytest.raises(ProviderError, match="reported an error"):
        await events_of(build("llm", "openai", openai_retries=0))


async def test_a_silent_server_times_out_per_read_not_per_stream(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(first_byte_delay_s=1.0))
    with pytest.raises(ProviderError) as raised:
        await events_of(build("llm", "openai", openai_read_timeout_s=0.3, openai_retries=0))
    assert raised.value.code == "provider_timeout"
    cloud.script.queue("chat", Behaviour(gap_s=0.2))  # each gap under the read timeout: a long answer is fine
    events = await events_of(build("llm", "openai", openai_read_timeout_s=0.3))
    assert isinstance(events[-1], Finish)


async def test_azure_openai_calls_the_deployment_with_its_key_and_version(cloud: FakeCloud, build: Build) -> None:
    events = await events_of(build("llm", "azure_openai", azure_openai_api_version="2024-10-21"))
    assert isinstance(events[-1], Finish)
    (call,) = cloud.script.of("azure_chat")
    assert call.path == "/openai/deployments/fake-deployment/chat/completions"
    assert call.query["api-version"] == "2024-10-21" and call.headers["api-key"] == OPENAI_KEY


async def test_closing_the_stream_early_releases_the_connection(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("chat", Behaviour(gap_s=0.3))
    stream = cast(AsyncGenerator[LLMEvent, None], build("llm", "openai").stream(ASK))
    await anext(stream)
    started = asyncio.get_running_loop().time()
    await stream.aclose()
    assert asyncio.get_running_loop().time() - started < 0.5


async def test_a_server_that_cannot_be_reached_is_retried_then_reported(build: Build) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    started = asyncio.get_running_loop().time()
    with pytest.raises(ProviderError) as raised:
        await events_of(build("llm", "openai", openai_base_url=f"http://127.0.0.1:{closed}/v1", openai_retries=2))
    assert raised.value.code == "provider_failed" and "connection" in str(raised.value)
    assert asyncio.get_running_loop().time() - started >= 0.25 * 0.5 + 0.5 * 0.5, "two backoffs"
