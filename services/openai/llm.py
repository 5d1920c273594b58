"""LLM over the OpenAI chat completions API: OpenAI, any OpenAI-compatible server (Ollama, vLLM,
LM Studio, llama.cpp's server) with OPENAI_BASE_URL, or an Azure OpenAI deployment.

The reply streams as typed events: text deltas, tool-call deltas, usage (when the server
reports it), then one Finish. A call that fails before its first chunk is retried with
backoff (429, 5xx, network); after that a failure ends the turn with a clear error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, cast

import openai

from config import ConfigProblem
from services.base import (
    ChatMessage,
    Finish,
    FinishReason,
    LLMCapabilities,
    LLMEvent,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from services.openai.client import azure_client, openai_client, provider_error, retry_policy
from services.openai.settings import AzureOpenAISettings, OpenAILLMSettings, OpenAISettings
from services.retry import retry_before_first
from services.shared import SharedResources
from utils.aio import bounded

CLOSE_BOUND_S = 1.0

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop", "length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls",
    "content_filter": "content_filter",
}  # fmt: skip


class OpenAILLM:
    uses_shared = True
    capabilities = LLMCapabilities(tools=True)

    def __init__(self, settings: OpenAISettings, llm: OpenAILLMSettings, *, shared: SharedResources) -> None:
        self._client: openai.AsyncOpenAI = openai_client(shared, settings, llm)
        self._model = llm.model
        self._llm = llm
        self._retry = retry_policy(settings)

    @classmethod
    def problems(cls, settings: OpenAISettings, llm: OpenAILLMSettings) -> list[ConfigProblem]:
        return llm.problems_with(settings)

    def count_tokens(self, text: str) -> int | None:
        return None  # no tokenizer without a network call: the core estimates

    def stream(self, messages: list[ChatMessage], tools: Sequence[ToolSpec] = ()) -> AsyncIterator[LLMEvent]:
        """Retried while nothing has come (the role-only first chunk is not a token)."""
        return retry_before_first(lambda: _events(self._chunks(messages, tools)), self._retry)

    async def _chunks(self, messages: list[ChatMessage], tools: Sequence[ToolSpec]) -> AsyncGenerator[Any, None]:
        offered: dict[str, Any] = {"tools": list(tools), "tool_choice": "auto"} if tools else {}
        try:
            stream = await self._client.chat.completions.create(
                model=self._model,
                messages=cast(Any, messages),
                stream=True,
                stream_options={"include_usage": True},
                temperature=self._llm.temperature,
                max_tokens=self._llm.max_tokens,
                **offered,
            )
            async with stream:
                async for chunk in stream:
                    yield chunk
        except Exception as error:
            raise provider_error("llm", error) from None


class AzureOpenAILLM(OpenAILLM):
    """The same, against an Azure OpenAI deployment (the deployment names the model)."""

    def __init__(
        self, azure: AzureOpenAISettings, settings: OpenAISettings, llm: OpenAILLMSettings, *, shared: SharedResources
    ) -> None:
        self._client = azure_client(shared, azure, settings)
        self._model = azure.deployment
        self._llm = llm
        self._retry = retry_policy(settings)

    @classmethod
    def problems(  # type: ignore[override]
        cls, azure: AzureOpenAISettings, settings: OpenAISettings, llm: OpenAILLMSettings
    ) -> list[ConfigProblem]:
        return azure.problems()


async def _events(chunks: AsyncGenerator[Any, None]) -> AsyncIterator[LLMEvent]:
    """Chat completion chunks -> LLM events; Usage and Finish come last, once each."""
    finish: FinishReason = "stop"
    usage: Usage | None = None
    try:
        async for chunk in chunks:
            if chunk.usage is not None:
                usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                for event in _choice_events(choice):
                    yield event
                if choice.finish_reason:
                    finish = FINISH_REASONS.get(choice.finish_reason, "stop")
    finally:
        await bounded(chunks.aclose(), CLOSE_BOUND_S, "llm response close")  # releases the connection now
    if usage is not None:
        yield usage
    yield Finish(finish)


def _choice_events(choice: Any) -> list[LLMEvent]:
    delta, events = choice.delta, cast(list[LLMEvent], [])
    if delta is None:
        return []
    if delta.content:
        events.append(TextDelta(delta.content))
    for call in delta.tool_calls or ():
        function = call.function
        events.append(ToolCallDelta(
            index=call.index, call_id=call.id, name=function.name if function else None,
            arguments=(function.arguments or "") if function else "",
        ))  # fmt: skip
    return events
