"""The LLM's context within a token budget: newest turns whole, older ones folded into a
summary made in the background, which never delays a reply (virtual time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from engine import events as ev
from engine.context import SUMMARY_PREFIX, ContextOptions, ContextWindow, estimate_tokens
from engine.history import AssistantMessage, History, Item, ToolCall, ToolResult, UserMessage
from engine.memory import Memory, Summary
from engine.summarizer import Summarizer
from services.base import ChatMessage, Finish, LLMCapabilities, LLMEvent, TextDelta, ToolSpec
from tests.scenario import Scenario


def WORDS(text: str) -> int:  # the mock LLM's tokenizer: words
    return len(text.split())


def conversation(turns: int, words: int = 20) -> list[Item]:
    items: list[Item] = []
    for turn in range(1, turns + 1):
        items.append(UserMessage(turn, f"question {turn} " + "word " * words, "text"))
        items.append(AssistantMessage(turn, f"answer {turn}", f"answer {turn} " + "word " * words, "completed"))
    return items


def test_the_newest_turns_that_fit_the_budget_are_sent_whole() -> None:
    window = ContextWindow(ContextOptions(token_budget=170, keep_turns=2), WORDS)
    messages = window.messages("Be brief.", conversation(10), None)
    assert window.tokens(messages) <= 170
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"].split()[:2] for m in messages[1:]] == [
        ["question", "8"], ["answer", "8"], ["question", "9"], ["answer", "9"], ["question", "10"], ["answer", "10"],
    ]  # fmt: skip


def test_the_newest_turn_is_sent_even_when_it_alone_exceeds_the_budget() -> None:
    window = ContextWindow(ContextOptions(token_budget=20, keep_turns=1), WORDS)
    assert len(window.messages("Be brief.", conversation(3, words=50), None)) == 3


def test_a_tool_call_never_leaves_its_result_behind() -> None:
    items: list[Item] = [
        *conversation(1, words=40),
        UserMessage(2, "book it", "text"),
        ToolCall(2, "call_1", "book", "{}", "completed"),
        ToolResult(2, "call_1", "booked " + "word " * 40),
        AssistantMessage(2, "done", "done", "completed"),
    ]
    window = ContextWindow(ContextOptions(token_budget=90, keep_turns=1), WORDS)
    roles = [m["role"] for m in window.messages("Be brief.", items, None)]
    assert roles == ["system", "user", "assistant", "tool", "assistant"], "turn 2 whole, turn 1 left out"


def test_summarized_items_give_way_to_their_summary() -> None:
    items = conversation(4)
    summary = Summary("The user asked four questions.", tuple(item.id for item in items[:4]))
    window = ContextWindow(ContextOptions(token_budget=3000, keep_turns=1), WORDS)
    messages = window.messages("Be brief.", items, summary)
    assert messages[1] == {"role": "system", "content": SUMMARY_PREFIX + "The user asked four questions."}
    assert [m["content"].split()[1] for m in messages[2:]] == ["3", "3", "4", "4"]
    assert window.to_fold(items, summary, "Be brief.") == [], "it all fits: nothing to fold"
    tight = ContextWindow(ContextOptions(token_budget=100, keep_turns=1), WORDS)
    assert [turn[0].turn_id for turn in tight.to_fold(items, summary, "Be brief.")] == [3]


def test_tokens_are_estimated_where_the_llm_has_no_tokenizer() -> None:
    window = ContextWindow(ContextOptions(), lambda text: None)
    assert window.tokens([{"role": "user", "content": "x" * 400}]) == estimate_tokens("x" * 400) + 4 == 104


@pytest.mark.looptime
async def test_older_turns_are_summarized_in_the_background_without_delaying_a_reply() -> None:
    def scenario(budget: int) -> Scenario:
        timeline = Scenario(
            context_token_budget=budget, context_keep_turns=2, mock_llm_sentences=8, mock_tts_ms_per_char=5
        )
        for turn in range(6):
            timeline.user_types(0.1 + 6 * turn, f"tell me about topic number {turn + 1}")
        return timeline

    tight, roomy = await scenario(400).run(until=38), await scenario(100_000).run(until=38)
    summary = tight.session.memory.summary
    assert summary is not None and roomy.session.memory.summary is None
    assert "topic number 1" in summary.text, "the summary is the LLM's reading of the older turns"
    summarized = set(summary.item_ids)
    items = tight.session.history.items
    assert len(items) == 12 and not summarized & {item.id for item in items[-4:]}, "the last 2 turns stay verbatim"
    first_audio = [m.values["first_audio_sent_ms"] for m in tight.of(ev.TurnMetrics)]
    assert first_audio == [m.values["first_audio_sent_ms"] for m in roomy.of(ev.TurnMetrics)], "no reply waited"
    _, last = tight.first(ev.LlmText, turn_id=6, complete=True)
    seen = int(last.content.split("This is turn ")[1].split()[0])  # the user messages the mock LLM was sent
    assert 2 <= seen < 6, "the LLM saw the kept turns and the summary, not the folded turns"


class SlowSummaryLLM:
    """An LLM whose summary takes `seconds`; `concurrent` as its capabilities say."""

    def __init__(self, concurrent: bool, seconds: float = 1.0) -> None:
        self.capabilities = LLMCapabilities(tools=False, concurrent=concurrent)
        self.seconds = seconds

    def count_tokens(self, text: str) -> int | None:
        return WORDS(text)

    async def stream(self, messages: list[ChatMessage], tools: Sequence[ToolSpec] = ()) -> AsyncIterator[LLMEvent]:
        await asyncio.sleep(self.seconds)
        yield TextDelta("The user asked about the sea.")
        yield Finish("stop")


@pytest.mark.looptime
@pytest.mark.parametrize("concurrent", [True, False])
async def test_a_turn_cancels_a_summary_only_on_an_llm_that_runs_one_request_at_a_time(concurrent: bool) -> None:
    llm, memory = SlowSummaryLLM(concurrent), Memory()
    history = History(100, conversation(6))
    window = ContextWindow(ContextOptions(token_budget=256, keep_turns=2), WORDS)
    summarizer = Summarizer(llm, history, memory, window, lambda: "Be brief.")
    summarizer.maybe_start()
    assert summarizer.running
    await asyncio.sleep(0.5)
    summarizer.yield_to_turn()  # a turn begins while the summary is being made
    await asyncio.sleep(1.0)
    if concurrent:
        assert memory.summary is not None and len(memory.summary.item_ids) == 8, "4 turns folded, 2 kept"
    else:
        assert memory.summary is None and not summarizer.running, "it stepped aside for the reply"
    await summarizer.aclose()
