"""Mock LLM: a multi-sentence reply that quotes the user and counts the turns in history.

Quoting the last user text shows which words a reply answers; counting turns and noticing
an interrupted reply shows what history the LLM was given. Tokens stream word by word
with configured latency, followed by usage and a finish, as a real LLM's would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from services.base import ChatMessage, Finish, LLMEvent, TextDelta, Usage
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
    sentences.extend(FILLER_SENTENCES)
    return " ".join(sentences[:sentence_count])


class MockLLM:
    def __init__(self, settings: MockLLMSettings) -> None:
        self.first_token_s = settings.first_token_ms / 1000
        self.token_s = settings.token_ms / 1000
        self.sentence_count = settings.sentences
        self.faults = FaultPlan.parse(settings.fault, settings.fault_on)
        self.calls = 0

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[LLMEvent]:
        self.calls += 1
        await self.faults.strike("llm", self.calls)
        await asyncio.sleep(self.first_token_s)
        words = compose_reply(messages, self.sentence_count).split(" ")
        for index, word in enumerate(words):
            if index:
                await asyncio.sleep(self.token_s)
            yield TextDelta(word if index == 0 else " " + word)
        prompt_words = sum(len(m["content"].split()) for m in messages)
        yield Usage(input_tokens=prompt_words, output_tokens=len(words))
        yield Finish("stop")
