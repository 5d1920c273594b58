"""The store's writer: every change of every session, written in order, off the engine's path.

History operations and memory changes (summary, notepad) queue here and one task writes them,
each as one store transaction. The queue is bounded: a session whose changes overflow it is
saved whole once the queue has drained. With RESET_KEEPS_ARCHIVE, a cleared conversation is
first copied to an archived session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Protocol

from engine.history import HistoryChange
from engine.memory import Memory
from storage.base import SessionRecord, SessionStore
from utils.aio import cancel_and_wait

log = logging.getLogger(__name__)
WRITE_QUEUE_SIZE = 4096


class Stored(Protocol):
    """A session as the writer sees it (session.Session)."""

    id: str
    last_turn_id: int
    log_name: str

    def record(self) -> SessionRecord: ...


Change = HistoryChange | Memory


class StoreWriter:
    def __init__(
        self, store: SessionStore, find: Callable[[str], Stored | None], archive_on_reset: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.store = store
        self._find = find
        self._archive_on_reset = archive_on_reset
        self._clock = clock
        self._writes: asyncio.Queue[tuple[Stored, Change] | None] = asyncio.Queue(WRITE_QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None
        self._dirty: set[str] = set()  # sessions whose changes overflowed the queue

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._write(), name="session-store-writer")

    def queue(self, session: Stored, change: Change) -> None:
        if session.id in self._dirty:
            return  # a whole save is due; it will hold this change too
        try:
            self._writes.put_nowait((session, change))
        except asyncio.QueueFull:
            log.warning("the session store is behind; session %s will be saved whole", session.log_name)
            self._dirty.add(session.id)

    def forget(self, session_id: str) -> None:
        self._dirty.discard(session_id)

    async def drain(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything queued so far is written (bounded); False if it was not."""
        if self._task is None or self._task.done():
            return self._writes.empty()  # no writer: nothing will be written by waiting
        try:
            await asyncio.wait_for(self._writes.join(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then stop (bounded)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._writes.put_nowait(None)
            await asyncio.wait([self._task], timeout=timeout_s)
            await cancel_and_wait([self._task], 1.0)
            self._task = None

    async def _write(self) -> None:
        while (entry := await self._writes.get()) is not None:
            try:
                await self._write_one(*entry)
                if self._dirty and self._writes.empty():
                    await self._save_dirty()
            except Exception:
                log.exception("the session store failed to write a change")
            finally:
                self._writes.task_done()
        self._writes.task_done()

    async def _write_one(self, session: Stored, change: Change) -> None:
        now = self._clock()
        if isinstance(change, Memory):
            summary = change.summary.to_dict() if change.summary is not None else None
            await self.store.remember(session.id, summary, change.notes(), now)
            return
        if change.op == "clear" and self._archive_on_reset:
            await self.store.archive(session.id, f"archive_{secrets.token_hex(16)}")
        await self.store.apply(session.id, change, session.last_turn_id, now)

    async def _save_dirty(self) -> None:
        while self._dirty:
            session = self._find(self._dirty.pop())
            if session is not None:
                await self.store.save(session.record())
