"""What the LLM is sent: the system prompt, the running summary, and as many recent turns as
fit the token budget, whole (a tool call never leaves its result behind).

Tokens are counted by the LLM's own tokenizer where it exposes one, estimated otherwise
(about four characters a token, plus a few per message). Turns that no longer fit are
folded into the summary by engine.summarizer in the background; until it is ready they are
simply left out, so a long conversation never delays or overflows a request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.history import Item, chat_messages
from engine.memory import Summary
from services.base import ChatMessage

SUMMARY_PREFIX = "Summary of the conversation so far (older turns): "
MESSAGE_OVERHEAD_TOKENS = 4
CACHE_LIMIT = 4096


@dataclass(frozen=True)
class ContextOptions:
    token_budget: int = 3000  # tokens of chat per LLM request, system prompt included
    keep_turns: int = 4  # the newest turns always stay verbatim
    summary_timeout_s: float = 60.0


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def turns_of(items: Sequence[Item], skip: frozenset[str] = frozenset()) -> list[list[Item]]:
    """Items grouped by turn, oldest turn first (a late tool result joins its own turn)."""
    turns: dict[int, list[Item]] = {}
    for item in items:
        if item.id not in skip:
            turns.setdefault(item.turn_id, []).append(item)
    return list(turns.values())


class ContextWindow:
    """One conversation's view of its history for the LLM, within the budget."""

    def __init__(self, options: ContextOptions, count_tokens: Callable[[str], int | None]) -> None:
        self.options = options
        self._count = count_tokens
        self._cache: dict[str, int] = {}

    def tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self._tokens_of(m) for m in messages)

    def messages(self, system_prompt: str, items: Sequence[Item], summary: Summary | None) -> list[ChatMessage]:
        """The request's chat: newest turns first into the budget, the newest one always."""
        head: list[ChatMessage] = [{"role": "system", "content": system_prompt}]
        if summary is not None and summary.text:
            head.append({"role": "system", "content": SUMMARY_PREFIX + summary.text})
        left = self.options.token_budget - self.tokens(head)
        chosen: list[Item] = []
        for turn in reversed(self._unsummarized(items, summary)):
            cost = self.tokens(chat_messages(turn))
            if chosen and cost > left:
                break
            chosen[:0], left = turn, left - cost
        return [*head, *chat_messages(chosen)]

    def to_fold(self, items: Sequence[Item], summary: Summary | None, system_prompt: str) -> list[list[Item]]:
        """The turns to fold into the summary now: all but the newest `keep_turns`, once the
        unsummarized chat no longer fits the budget (none otherwise)."""
        turns = self._unsummarized(items, summary)
        if len(turns) <= self.options.keep_turns:
            return []
        whole = self.messages(system_prompt, [], summary) + chat_messages([i for turn in turns for i in turn])
        if self.tokens(whole) <= self.options.token_budget:
            return []
        return turns[: len(turns) - self.options.keep_turns]

    @staticmethod
    def _unsummarized(items: Sequence[Item], summary: Summary | None) -> list[list[Item]]:
        return turns_of(items, frozenset(summary.item_ids) if summary is not None else frozenset())

    def _tokens_of(self, message: ChatMessage) -> int:
        text = message["content"] + "".join(
            call["function"]["name"] + call["function"]["arguments"] for call in message.get("tool_calls", ())
        )
        if (cached := self._cache.get(text)) is not None:
            return cached
        counted = self._count(text)
        tokens = (counted if counted is not None else estimate_tokens(text)) + MESSAGE_OVERHEAD_TOKENS
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[text] = tokens
        return tokens
