"""Tools during a voice turn, on scripted timelines in virtual time: a reply becomes
LLM -> tool calls -> LLM with results -> speech; calls are bounded, cut with the reply
(unless they survive a cut), recorded in history, and never run twice."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from engine import events as ev
from engine.history import NO_RESULT, AssistantMessage, ToolCall, ToolResult, UserMessage, chat_messages
from tests.scenario import Scenario
from tools.loading import load_toolbox
from tools.registry import Tool, ToolBox, ToolContext
from tools.settings import ToolSettings

pytestmark = pytest.mark.looptime


def script(phrase: str, *names: str, **arguments: Any) -> str:
    return json.dumps({phrase: [{"name": name, "arguments": arguments} for name in names]})


class SlowTool:
    """A tool that takes `seconds`, counting its starts and its ends."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.started, self.finished = seconds, 0, 0

    async def __call__(self, arguments: dict[str, Any], context: ToolContext) -> str:
        self.started += 1
        await asyncio.sleep(self.seconds)
        self.finished += 1
        return f"booked after {self.seconds:g} s"

    def box(self, *, timeout_s: float = 10.0, survives_cut: bool = False) -> ToolBox:
        tool = Tool("book", "Book a table.", {"type": "object", "properties": {}}, self, timeout_s, survives_cut)
        return ToolBox([tool])


def kinds(items: Any) -> list[str]:
    return [type(item).__name__ for item in items]


async def test_a_tool_call_is_run_and_its_result_answered() -> None:
    box = load_toolbox(ToolSettings(_env_file=None))
    log = await (
        Scenario(tools=box, mock_llm_tool_script=script("what time", "current_time", timezone="Europe/Paris"))
        .user_types(0.1, "what time is it?")
        .run(until=3)
    )
    user, call, result, reply = log.session.history.items
    assert isinstance(call, ToolCall) and (call.name, call.status, call.turn_id) == ("current_time", "completed", 1)
    assert json.loads(call.arguments) == {"timezone": "Europe/Paris"}
    assert isinstance(result, ToolResult) and result.call_id == call.call_id and "Europe/Paris" in result.output
    assert isinstance(reply, AssistantMessage) and reply.status == "completed"
    assert reply.heard_text.startswith(f'The tool said: "{result.output}".')
    assert isinstance(user, UserMessage)


async def test_a_slow_tool_gets_a_filler_line_and_a_timeout_is_told_to_the_llm() -> None:
    slow = SlowTool(5.0)
    log = await (
        Scenario(tools=slow.box(timeout_s=1.0), mock_llm_tool_script=script("book", "book"), tool_filler_ms=300)
        .user_types(0.1, "book a table")
        .run(until=4)
    )
    filler_at, filler = log.first(ev.SpeechStart, sentence_index=0)
    assert filler.text == "One moment." and filler_at == pytest.approx(0.1 + 0.02 + 0.3, abs=0.05)
    _, call, result, reply = log.session.history.items
    assert isinstance(call, ToolCall) and call.status == "failed"
    assert isinstance(result, ToolResult) and result.output == "error: book did not answer within 1 s"
    assert isinstance(reply, AssistantMessage) and reply.heard_text.startswith('One moment. The tool said: "error:')
    assert (slow.started, slow.finished) == (1, 0)


async def test_a_cut_in_during_a_tool_call_cancels_it_and_the_next_turn_works() -> None:
    slow = SlowTool(3.0)
    log = await (
        Scenario(
            tools=slow.box(),
            mock_llm_tool_script=script("book", "book"),
            tool_filler_ms=300,
            tool_filler_text="One moment, I am booking it.",
            mock_tts_ms_per_char=60,
        )  # the filler is 1.7 s of speech from 0.42 s: still playing at the cut
        .user_types(0.1, "book a table")
        .at(1.0, lambda conversation: conversation.interrupt())
        .user_types(1.5, "never mind, thanks")
        .run(until=6)
    )
    _, stop = log.first(ev.SpeechStop, turn_id=1)
    assert stop.reason == "interrupt" and 0 < stop.played_ms < 1000, "the filler is cut like any speech"
    items = log.session.history.items
    assert kinds(items)[:3] == ["UserMessage", "ToolCall", "AssistantMessage"]
    filler = items[2]
    assert isinstance(filler, AssistantMessage) and filler.status == "interrupted"
    assert filler.heard_text and "One moment, I am booking it.".startswith(filler.heard_text)
    assert filler.heard_text != "One moment, I am booking it.", "only the words played are kept"
    call = items[1]
    assert isinstance(call, ToolCall) and call.status == "cancelled"
    assert (slow.started, slow.finished) == (1, 0), "cancelled, never run twice"
    _, answer = log.first(ev.LlmText, turn_id=2, complete=True)
    assert answer.content.startswith('You said: "never mind, thanks"')
    told = {"role": "tool", "content": NO_RESULT["cancelled"], "tool_call_id": call.call_id}
    assert told in chat_messages(items), "the next request says the call did not finish"
    assert log.states()[-1] == "listening"


async def test_a_tool_that_survives_a_cut_finishes_and_its_result_is_kept_for_the_next_turn() -> None:
    slow = SlowTool(1.0)
    log = await (
        Scenario(tools=slow.box(survives_cut=True), mock_llm_tool_script=script("book", "book"), tool_filler_ms=0)
        .user_types(0.1, "book a table")
        .at(0.5, lambda conversation: conversation.interrupt())
        .user_types(2.0, "is it done?")
        .run(until=5)
    )
    assert (slow.started, slow.finished) == (1, 1)
    items = log.session.history.items
    call = next(item for item in items if isinstance(item, ToolCall))
    result = next(item for item in items if isinstance(item, ToolResult))
    assert call.status == "completed" and result.output == "booked after 1 s"
    messages = chat_messages(items)
    at = messages.index({"role": "tool", "content": "booked after 1 s", "tool_call_id": call.call_id})
    assert messages[at - 1]["tool_calls"][0]["id"] == call.call_id, "the result follows its call at once"
    assert not log.all(ev.LlmText, turn_id=1, complete=True), "the cut reply said nothing more"


async def test_tools_are_offered_only_to_an_llm_that_can_call_them() -> None:
    slow = SlowTool(0.1)
    log = await (
        Scenario(tools=ToolBox(), mock_llm_tool_script=script("book", "book"))
        .user_types(0.1, "book a table")
        .run(until=2)
    )
    assert kinds(log.session.history.items) == ["UserMessage", "AssistantMessage"] and slow.started == 0
