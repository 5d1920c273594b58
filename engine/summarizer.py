"""The running summary: older turns folded into a few lines by the LLM, in the background.

It starts when a reply ends and the context no longer fits its budget. On an LLM that runs one
generation at a time (the local one) a new turn cancels it (it starts again after that turn's
reply), so a summary never delays a reply; a cloud LLM serves both side by side. A summary that
fails or times out changes nothing; the budget keeps requests small meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from engine.context import ContextWindow
from engine.history import AssistantMessage, History, Item, ToolCall, ToolResult, UserMessage
from engine.memory import Memory, Summary
from services.base import LLM, ChatMessage, TextDelta
from services.streams import with_step_timeouts
from utils.aio import cancel_and_wait

log = logging.getLogger(__name__)
SUMMARY_INSTRUCTION = (
    "You keep the memory of a spoken conversation between a user and an assistant. Merge the summary so far "
    "and the new lines into one short summary (at most 120 words): names, facts, numbers, decisions, what was "
    "asked and not yet answered. Write only the summary."
)


def transcript_line(item: Item) -> str:
    match item:
        case UserMessage(text=text):
            return f"User: {text}"
        case AssistantMessage(heard_text=heard, status=status):
            return f"Assistant: {heard}" + (" (cut off by the user)" if status == "interrupted" else "")
        case ToolCall(name=name, arguments=arguments, status=status):
            return f"Assistant called {name}({arguments}) [{status}]"
        case ToolResult(output=output):
            return f"Tool result: {output}"
    return ""


class Summarizer:
    def __init__(
        self, llm: LLM, history: History, memory: Memory, window: ContextWindow, system_prompt: Callable[[], str]
    ) -> None:
        self._llm, self._history, self._memory, self._window = llm, history, memory, window
        self._system_prompt = system_prompt
        self._task: asyncio.Task[None] | None = None
        self.summaries = 0  # summaries made (tests and logs)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def maybe_start(self) -> None:
        """Fold what no longer fits into the summary, unless a summary is already being made."""
        if self.running:
            return
        turns = self._window.to_fold(self._history.items, self._memory.summary, self._system_prompt())
        if turns:
            self._task = asyncio.create_task(self._summarize([i for t in turns for i in t]), name="summarizer")

    def yield_to_turn(self) -> None:
        """A turn begins: on an LLM that runs one request at a time, the summary steps aside (it is
        made again after the reply); one that runs requests side by side keeps summarizing."""
        if self.running and self._task is not None and not self._llm.capabilities.concurrent:
            self._task.cancel()

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], 1.0)

    async def _summarize(self, items: list[Item]) -> None:
        previous = self._memory.summary
        lines = "\n".join(line for item in items if (line := transcript_line(item)))
        so_far = previous.text if previous else "(none)"
        messages: list[ChatMessage] = [
            {"role": "system", "content": SUMMARY_INSTRUCTION},
            {"role": "user", "content": f"Summary so far: {so_far}\n\nNew lines:\n{lines}"},
        ]
        timeout_s = self._window.options.summary_timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                events = with_step_timeouts(
                    self._llm.stream(messages), stage="llm", first_s=timeout_s, idle_s=timeout_s
                )
                text = "".join([event.text async for event in events if isinstance(event, TextDelta)]).strip()
        except Exception as error:
            log.warning("the summary of older turns failed (%s); they stay left out of requests", error)
            return
        if text:
            ids = (*(previous.item_ids if previous else ()), *(item.id for item in items))
            self._memory.set_summary(Summary(text, ids))
            self.summaries += 1
            log.info("%d older item(s) folded into the summary", len(items))
