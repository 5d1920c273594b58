"""A SessionStore in this process's memory: for tests, and for servers that need no restart.

It keeps copies, never the live objects, so it behaves as a persistent store would: what it
returns is what the operations it followed built. It is not durable: a session the manager
forgets is deleted from it.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from engine.history import HistoryChange, item_to_dict
from storage.base import SessionInfo, SessionRecord


class MemoryStore:
    durable = False

    def __init__(self) -> None:
        self._records: dict[str, SessionRecord] = {}

    async def load(self, session_id: str) -> SessionRecord | None:
        record = self._records.get(session_id)
        return copy.deepcopy(record) if record is not None else None

    async def save(self, record: SessionRecord) -> None:
        self._records[record.id] = copy.deepcopy(record)

    async def apply(self, session_id: str, change: HistoryChange, last_turn_id: int, updated_at: float) -> None:
        record = self._records.get(session_id)
        if record is None:
            return
        record.last_turn_id, record.updated_at = last_turn_id, updated_at
        if change.op == "clear":
            record.items.clear()
        elif change.op == "delete":
            record.items = [item for item in record.items if item["id"] != change.item_id]
        elif change.item is not None:
            stored = item_to_dict(change.item)
            index = next((i for i, item in enumerate(record.items) if item["id"] == change.item_id), None)
            if index is None:
                record.items.append(stored)
            else:
                record.items[index] = stored

    async def remember(
        self, session_id: str, summary: dict[str, Any] | None, notepad: list[str], updated_at: float
    ) -> None:
        if (record := self._records.get(session_id)) is not None:
            record.summary, record.notepad, record.updated_at = copy.deepcopy(summary), list(notepad), updated_at

    async def archive(self, session_id: str, archive_id: str) -> None:
        if (record := self._records.get(session_id)) is not None:
            kept = copy.deepcopy(record)
            kept.id, kept.archived = archive_id, True
            self._records[archive_id] = kept

    async def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)

    async def ids(self) -> list[str]:
        return list(self._records)

    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionInfo]:
        ordered = sorted(self._records.values(), key=lambda r: r.updated_at, reverse=True)
        return [
            SessionInfo(r.id, r.created_at, r.updated_at, len(r.items), r.archived)
            for r in ordered[offset : offset + limit]
        ]

    async def purge(self, updated_before: float, keep: Collection[str] = ()) -> int:
        old = [k for k, record in self._records.items() if record.updated_at < updated_before and k not in keep]
        for key in old:
            del self._records[key]
        return len(old)

    async def close(self) -> None:
        self._records.clear()
