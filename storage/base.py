"""The SessionStore interface: where a session's persistent state lives between connections.

A session is stored whole once (`save`: created, or its settings changed) and then follows
its history one operation at a time (`apply`), so a store never rewrites a conversation to
record one item. Records are plain JSON-ready data; a store never sees a live object.
"""

from __future__ import annotations

from collections.abc import Collection
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
    summary: dict[str, Any] | None = None  # engine.memory.Summary.to_dict
    notepad: list[str] = field(default_factory=list)
    archived: bool = False  # a conversation kept when its session was reset (RESET_KEEPS_ARCHIVE)


@dataclass(frozen=True)
class SessionInfo:
    """A stored session, listed without its items."""

    id: str
    created_at: float
    updated_at: float
    items: int
    archived: bool


class SessionStore(Protocol):
    durable: bool  # what it holds outlives the process (a session out of memory can still be resumed)

    async def load(self, session_id: str) -> SessionRecord | None:
        """The stored session, or None if there is none."""

    async def save(self, record: SessionRecord) -> None:
        """Store the whole session (its items included), replacing any stored one."""

    async def apply(self, session_id: str, change: HistoryChange, last_turn_id: int, updated_at: float) -> None:
        """Follow one history operation of a stored session."""

    async def remember(
        self, session_id: str, summary: dict[str, Any] | None, notepad: list[str], updated_at: float
    ) -> None:
        """Store the session's summary and notepad."""

    async def archive(self, session_id: str, archive_id: str) -> None:
        """Keep a copy of the session as it is now, under `archive_id`, marked archived."""

    async def delete(self, session_id: str) -> None: ...

    async def ids(self) -> list[str]: ...

    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionInfo]:
        """Stored sessions, the most recently updated first."""

    async def purge(self, updated_before: float, keep: Collection[str] = ()) -> int:
        """Delete the sessions not updated since `updated_before` (wall clock); how many."""

    async def close(self) -> None: ...


class StoreFailure(Exception):
    """The store could not do what it was asked (a full disk, a broken file)."""
