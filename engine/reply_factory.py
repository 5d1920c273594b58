"""Builds a conversation's replies: its system prompt, its context window, its tools.

Kept apart from the Conversation, which decides when a reply starts; this knows how one is
made, for a turn in the history or for a turn not in it yet (a speculative, held reply).
"""

from __future__ import annotations

from collections.abc import Callable

from engine import events as ev
from engine.context import ContextWindow
from engine.history import UserMessage
from engine.language import system_prompt
from engine.metrics import TurnTimer
from engine.options import ConversationState, EngineOptions, ReplyRequest
from engine.reply import Reply
from engine.tool_runner import ToolSession
from services.base import Providers


class ReplyFactory:
    def __init__(
        self, state: ConversationState, providers: Providers, options: EngineOptions, tools: ToolSession,
        is_current: Callable[[Reply], bool], set_state: Callable[[ev.State], None], on_done: Callable[[Reply], None],
    ) -> None:  # fmt: skip
        self.window = ContextWindow(options.context, providers.llm.count_tokens)
        self._state, self._providers, self._options, self._tools = state, providers, options, tools
        self._is_current, self._set_state, self._on_done = is_current, set_state, on_done

    def system_prompt(self, instructions: str | None = None) -> str:
        settings = self._state.settings
        return system_prompt(instructions or settings.system_prompt, settings.language)

    def build(
        self, turn_id: int, timer: TurnTimer, request: ReplyRequest, sink: ev.EventSink, user: UserMessage | None = None
    ) -> Reply:
        """A reply to the history as it stands; with `user` (a turn not yet in it), a held one."""
        history, memory = self._state.history, self._state.memory
        items = history.items if user is None else [*history.items, user]
        messages = self.window.messages(self.system_prompt(request.instructions), items, memory.summary)
        reply = Reply(
            turn_id, self._state.settings, history, self._providers, self._options.reply, sink, timer,
            on_state=lambda state: self._set_state(state) if self._is_current(reply) else None,
            on_done=self._on_done, messages=messages, tools=self._tools, request=request, held=user is not None,
        )  # fmt: skip
        return reply
