"""The SessionStore interface: where a session's persistent state lives between connections.

A session is stored whole once (`save`: created, or its settings changed) and then follows
its history one operation at a time (`apply`), so a store never rewrites a conversation to
record one item. Records are plain JSON-ready data; a store never sees a live object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.history import HistoryChange


@dataclass
class SessionRecord:
    id: str
    settings: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)  # engine.history.item_to_dict, oldest first
    last_turn_id: int = 0
    created_at: float = 0.0  # wall clock (time.time())
    updated_at: float = 0.0


class SessionStore(Protocol):
    async def load(self, session_id: str) -> SessionRecord | None:
        """The stored session, or None if there is none."""

    async def save(self, record: SessionRecord) -> None:
        """Store the whole session (its items included), replacing any stored one."""

    async def apply(self, session_id: str, change: HistoryChange, last_turn_id: int, updated_at: float) -> None:
        """Follow one history operation of a stored session."""

    async def delete(self, session_id: str) -> None: ...

    async def ids(self) -> list[str]: ...

    async def close(self) -> None: ...
