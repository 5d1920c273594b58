"""The LLM side of one reply: LLM rounds, the server's tools run between them, the text split
into sentences for the voice, and calls to the client's own tools.

A call to a client's tool ends the reply: it is recorded (a completed call, with no result
yet) and announced, and the client adds the result and asks for the next reply itself.
A reply past its `max_output_tokens` ends early, marked incomplete.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from engine import events as ev
from engine.history import History, ToolCall, new_item_id
from engine.metrics import TurnTimer
from engine.options import ReplyOptions, ReplyRequest
from engine.tool_runner import CallCollector, PendingCall, ToolRunner, ToolSession
from services.base import LLM, ChatMessage, Finish, TextDelta, ToolCallDelta, ToolSpec, Usage
from services.streams import with_step_timeouts
from utils.sentences import SentenceSegmenter

log = logging.getLogger(__name__)
Say = Callable[[str], Awaitable[None]]


class _OutputLimit(Exception):
    """The reply reached its max_output_tokens."""


class ReplyText:
    def __init__(
        self,
        reply_ids: tuple[int, str],  # (turn id, response id)
        llm: LLM,
        messages: list[ChatMessage],
        request: ReplyRequest,
        tools: ToolSession | None,
        history: History,
        options: ReplyOptions,
        sink: ev.EventSink,
        timer: TurnTimer,
        say: Say,
        before_tools: Callable[[], Awaitable[object]],
    ) -> None:
        self.content = ""
        self.usage: Usage | None = None
        self.incomplete: str | None = None
        self._turn_id, self._response_id = reply_ids
        self._llm, self._messages, self._request = llm, messages, request
        self._tools = tools
        self._history, self._options, self._sink, self._timer, self._say = history, options, sink, timer, say
        self._tokens = 0
        self._before_tools = before_tools  # a speculative reply's tools wait until it is adopted
        offered = llm.capabilities.tools and request.tool_choice != "none"
        server = tools.box.specs() if tools is not None and tools.box and offered else []
        self._specs: list[ToolSpec] = [*server, *(request.client_tools if offered else ())]
        self._client_names = {spec["function"]["name"] for spec in request.client_tools}

    async def run(self) -> None:
        """Every round of the reply; a provider's failure is raised."""
        segmenter = SentenceSegmenter()
        rounds = self._tools.options.max_rounds if self._tools is not None and self._specs else 1
        try:
            for round_number in range(1, rounds + 1):
                said_before = len(self.content)
                calls = await self._round(segmenter, offer_tools=round_number < rounds)
                if not calls:
                    break
                if rest := segmenter.flush():  # what was said before the calls is spoken before them
                    await self._say(rest)
                await self._before_tools()
                if not await self._run_calls(calls, self.content[said_before:]):
                    break
        except _OutputLimit:
            self.incomplete = "max_output_tokens"
        if rest := segmenter.flush():
            await self._say(rest)

    async def _run_calls(self, calls: list[PendingCall], said: str) -> bool:
        """Run the server's calls; True when the LLM should answer their results in another round."""
        client = [call for call in calls if call.name in self._client_names]
        server = [call for call in calls if call.name not in self._client_names]
        if server and self._tools is not None:
            runner = ToolRunner(self._tools, self._history, self._turn_id)
            self._messages += await runner.run(server, self._say, said)
        for call in client:
            item_id = new_item_id()
            self._sink.emit(ev.ClientToolCall(self._turn_id, self._response_id, item_id, call.call_id, call.name,
                                              call.arguments))  # fmt: skip
            self._history.append(ToolCall(self._turn_id, call.call_id, call.name, call.arguments, "completed",
                                          id=item_id))  # fmt: skip
        return not client

    async def _round(self, segmenter: SentenceSegmenter, offer_tools: bool) -> list[PendingCall]:
        """One LLM response: its text is spoken as it comes; the tool calls it asks for are returned."""
        opts, collector = self._options, CallCollector()
        tools = self._specs if offer_tools else []
        events = with_step_timeouts(
            self._llm.stream(self._messages, tools), stage="llm", first_s=opts.llm_first_token_timeout_s,
            idle_s=opts.llm_idle_timeout_s,
        )  # fmt: skip
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta) and event.text:
                    await self._on_text(event.text, segmenter)
                elif isinstance(event, ToolCallDelta):
                    collector.add(event)
                elif isinstance(event, Usage):
                    self.usage = event
                elif isinstance(event, Finish) and event.reason not in ("stop", "tool_calls"):
                    log.info("turn %d: the LLM finished with %s", self._turn_id, event.reason)
        return collector.calls() if tools else []

    async def _on_text(self, delta: str, segmenter: SentenceSegmenter) -> None:
        limit = self._request.max_output_tokens
        if limit is not None:
            counted = self._llm.count_tokens(delta)
            self._tokens += counted if counted is not None else max(1, len(delta) // 4)
            if self._tokens > limit:
                raise _OutputLimit
        self._timer.mark("llm_first_token_ms")
        self.content += delta
        self._sink.emit(ev.LlmText(self._turn_id, delta, self.content, complete=False))
        for sentence in segmenter.push(delta):
            await self._say(sentence)
