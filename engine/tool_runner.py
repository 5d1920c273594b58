"""One reply's tool round: the LLM asked for calls; run them, bounded, and record them.

Each call is a history item (in progress, then completed, failed or cancelled) followed by
its result, so a resumed session knows what ran and nothing runs twice. Calls run at once,
each under its timeout; while they take longer than the filler delay, the assistant says a
short line (spoken and cut like any speech). A cut-in cancels the calls, except those of a
tool that survives a cut: they run on under the conversation's ToolSession, and their
result is recorded for the next turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.history import History, ToolCall, ToolResult, wire_call
from services.base import ChatMessage, ToolCallDelta
from tools.registry import ToolBox, ToolContext, ToolError, check_arguments
from utils.aio import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolOptions:
    max_rounds: int = 4
    filler_after_s: float = 0.8  # 0: never
    filler_text: str = "One moment."


@dataclass
class PendingCall:
    call_id: str
    name: str = ""
    arguments: str = ""


class CallCollector:
    """Tool-call deltas of one LLM response, assembled by index."""

    def __init__(self) -> None:
        self._calls: dict[int, PendingCall] = {}

    def add(self, delta: ToolCallDelta) -> None:
        call = self._calls.setdefault(delta.index, PendingCall(delta.call_id or f"call_{delta.index}"))
        call.call_id = delta.call_id or call.call_id
        call.name = delta.name or call.name
        call.arguments += delta.arguments

    def calls(self) -> list[PendingCall]:
        return [self._calls[index] for index in sorted(self._calls)]


@dataclass
class ToolSession:
    """A conversation's tools: the box, the session's context, and the calls that outlive a cut."""

    box: ToolBox
    context: ToolContext
    options: ToolOptions
    survivors: set[asyncio.Task[str]] = field(default_factory=set)

    def spawn(self, coroutine: Awaitable[str], name: str) -> asyncio.Task[str]:
        task = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self.survivors.add(task)
        task.add_done_callback(self.survivors.discard)
        return task

    async def aclose(self, timeout_s: float) -> None:
        await cancel_and_wait(list(self.survivors), timeout_s)


class ToolRunner:
    def __init__(self, tools: ToolSession, history: History, turn_id: int) -> None:
        self._tools, self._history, self._turn_id = tools, history, turn_id

    async def run(
        self, calls: list[PendingCall], say: Callable[[str], Awaitable[None]], said: str = ""
    ) -> list[ChatMessage]:
        """Run `calls`; the chat messages that carry them (after what the LLM `said` with them) and
        their results to the next LLM round."""
        items = [
            self._history.append(ToolCall(self._turn_id, c.call_id, c.name, c.arguments, "in_progress")) for c in calls
        ]
        tasks = [self._start(call, item.id) for call, item in zip(calls, items, strict=True)]
        own = [task for task in tasks if task not in self._tools.survivors]
        try:
            filler_s = self._tools.options.filler_after_s
            if filler_s > 0 and (await asyncio.wait(tasks, timeout=filler_s))[1]:
                await say(self._tools.options.filler_text)
            await asyncio.wait(tasks)
        finally:
            await cancel_and_wait(own, 1.0)  # on a cut: the reply's own calls end with it
        wire = [wire_call(c.call_id, c.name, c.arguments) for c in calls]
        messages: list[ChatMessage] = [{"role": "assistant", "content": said.strip(), "tool_calls": wire}]
        for call, task in zip(calls, tasks, strict=True):
            messages.append({"role": "tool", "content": task.result(), "tool_call_id": call.call_id})
        return messages

    def _start(self, call: PendingCall, item_id: str) -> asyncio.Task[str]:
        tool = self._tools.box.get(call.name)
        name = f"tool-{self._turn_id}-{call.name}"
        if tool is not None and tool.survives_cut:
            return self._tools.spawn(self._execute(call, item_id), name)
        return asyncio.create_task(self._execute(call, item_id), name=name)

    async def _execute(self, call: PendingCall, item_id: str) -> str:
        """The call's output for the LLM (an error in words when it failed), recorded in history."""
        box = self._tools.box
        tool = box.get(call.name)
        status, limit_s = "completed", 0.0
        try:
            if tool is None:
                raise ToolError(f"there is no tool called {call.name!r}")
            arguments = check_arguments(tool.parameters, _parse(call.arguments))
            limit_s = box.timeout_of(tool)
            async with asyncio.timeout(limit_s):
                output = await tool.run(arguments, self._tools.context)
        except asyncio.CancelledError:
            self._history.revise(item_id, status="cancelled")
            raise
        except TimeoutError:
            status, output = "failed", f"error: {call.name} did not answer within {limit_s:g} s"
        except ToolError as error:
            status, output = "failed", f"error: {error}"
        except Exception:
            log.exception("tool %s failed", call.name)
            status, output = "failed", f"error: {call.name} failed unexpectedly"
        self._history.revise(item_id, status=status)
        self._history.append(ToolResult(self._turn_id, call.call_id, output))
        return output


def _parse(arguments: str) -> object:
    try:
        return json.loads(arguments or "{}")
    except json.JSONDecodeError:
        raise ToolError("the arguments are not valid JSON") from None
