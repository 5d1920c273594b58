"""Mock LLM: a multi-sentence reply that quotes the user and counts the turns in history.

Quoting the last user text shows which words a reply answers; counting turns and noticing
an interrupted reply shows what history the LLM was given. Tokens stream word by word
with configured latency, followed by usage and a finish, as a real LLM's would. Scripted
with MOCK_LLM_TOOL_SCRIPT, it calls tools when the user's words contain a phrase, and
answers a tool's result by quoting it, so tool turns are tested without a network.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from services.base import ChatMessage, Finish, LLMCapabilities, LLMEvent, TextDelta, ToolCallDelta, ToolSpec, Usage
from services.mock.faults import FaultPlan
from services.mock.settings import MockLLMSettings

FILLER_SENTENCES = (
    "Here is a number, 3.5, and a time, 7:30, to keep the segmenter honest.",
    "Mr. Smith said the samples are at example.com today.",
    "I am only a mock model, e.g. for tests and benchmarks.",
    "Is there anything else you would like to know?",
    "Each of these sentences is spoken as soon as it is complete.",
    "That is all I have to say for now.",
)
ScriptedCall = dict[str, Any]  # {"name": ..., "arguments": {...}}


def compose_reply(messages: list[ChatMessage], sentence_count: int) -> str:
    """The deterministic reply to `messages`."""
    user_texts = [m["content"] for m in messages if m["role"] == "user"]
    last_user = user_texts[-1] if user_texts else ""
    sentences = [
        f'You said: "{last_user}".',
        f"This is turn {len(user_texts)} of our conversation.",
    ]
    if any(m["role"] == "system" and "interrupted" in m["content"] for m in messages[1:]):
        sentences.append("I see you cut me off before.")
    if results := _latest_tool_results(messages):
        sentences = [f'The tool said: "{output}".' for output in results] + sentences[1:]
    sentences.extend(FILLER_SENTENCES)
    return " ".join(sentences[: max(sentence_count, len(results) + 1)])


def _latest_tool_results(messages: list[ChatMessage]) -> list[str]:
    """The outputs of the tool messages that end the chat (this reply's tool round)."""
    results: list[str] = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        results.insert(0, message["content"])
    return results


def parse_tool_script(script: str) -> dict[str, list[ScriptedCall]]:
    if not script.strip():
        return {}
    parsed = json.loads(script)
    return {phrase.lower(): list(calls) for phrase, calls in parsed.items()}


class MockLLM:
    capabilities = LLMCapabilities(tools=True)

    def __init__(self, settings: MockLLMSettings) -> None:
        self.first_token_s = settings.first_token_ms / 1000
        self.token_s = settings.token_ms / 1000
        self.sentence_count = settings.sentences
        self.faults = FaultPlan.parse(settings.fault, settings.fault_on)
        self.tool_script = parse_tool_script(settings.tool_script)
        self.calls = 0

    def count_tokens(self, text: str) -> int | None:
        return len(text.split())  # the mock's "tokens" are words, as its Usage counts them

    async def stream(self, messages: list[ChatMessage], tools: Sequence[ToolSpec] = ()) -> AsyncIterator[LLMEvent]:
        self.calls += 1
        await self.faults.strike("llm", self.calls)
        await asyncio.sleep(self.first_token_s)
        prompt_words = sum(len(m["content"].split()) for m in messages)
        if calls := self._scripted_calls(messages, tools):
            for index, call in enumerate(calls):
                arguments = json.dumps(call.get("arguments", {}))
                yield ToolCallDelta(index, f"call_{self.calls}_{index}", call["name"], arguments[:5])
                yield ToolCallDelta(index, arguments=arguments[5:])
            yield Usage(input_tokens=prompt_words, output_tokens=len(calls))
            yield Finish("tool_calls")
            return
        words = compose_reply(messages, self.sentence_count).split(" ")
        for index, word in enumerate(words):
            if index:
                await asyncio.sleep(self.token_s)
            yield TextDelta(word if index == 0 else " " + word)
        yield Usage(input_tokens=prompt_words, output_tokens=len(words))
        yield Finish("stop")

    def _scripted_calls(self, messages: list[ChatMessage], tools: Sequence[ToolSpec]) -> list[ScriptedCall]:
        """The calls scripted for the user's last words, of the tools offered; none once the
        chat ends in tool results (the reply to them is spoken)."""
        if not tools or not messages or messages[-1]["role"] != "user":
            return []
        offered = {tool["function"]["name"] for tool in tools}
        said = messages[-1]["content"].lower()
        for phrase, calls in self.tool_script.items():
            if phrase in said:
                return [call for call in calls if call.get("name") in offered]
        return []
