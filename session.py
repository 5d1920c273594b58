"""Sessions: a conversation's persistent state, and the manager that attaches connections to it.

A Session's persistent part (id, settings, history items, turn counter) lives in a
SessionStore and outlives connections and, with a persistent store, the process; its
live part (the attached connection, counters) exists only while it is in memory. A
client that reconnects with its session_id gets its conversation back; a session nobody
is connected to expires SESSION_IDLE_TIMEOUT_S after its last connection left (wall clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from engine.history import History, HistoryChange, item_from_dict, item_to_dict
from engine.options import SessionSettings
from services.secrets import short_hash
from storage.base import SessionRecord, SessionStore
from utils.aio import cancel_and_wait

log = logging.getLogger(__name__)
WRITE_QUEUE_SIZE = 4096


@dataclass
class LiveState:
    """What exists only while the session is in memory."""

    connection: object | None = None  # the connection attached now, if any
    address: str = ""  # the client address that created it (its sessions count against that address's cap)
    detached_at: float | None = None  # wall clock, when the last connection left
    audio_bytes_in: int = 0  # microphone PCM accepted, all connections together
    playback_acks: int = 0  # `playback` messages received


class Session:
    def __init__(
        self, session_id: str, settings: SessionSettings, history: History, last_turn_id: int = 0,
        created_at: float | None = None,
    ) -> None:  # fmt: skip
        self.id = session_id
        self.settings = settings
        self.history = history
        self.last_turn_id = last_turn_id
        self.created_at = time.time() if created_at is None else created_at
        self.live = LiveState()
        self.log_name = short_hash(session_id)  # the id resumes the session: logs never show it

    def next_turn_id(self) -> int:
        self.last_turn_id = (self.last_turn_id + 1) % (1 << 32) or 1
        return self.last_turn_id

    def record(self) -> SessionRecord:
        items = [item_to_dict(item) for item in self.history.items]
        return SessionRecord(self.id, asdict(self.settings), items, self.last_turn_id, self.created_at, time.time())

    @classmethod
    def from_record(cls, record: SessionRecord, max_items: int) -> Session:
        history = History(max_items, [item_from_dict(item) for item in record.items])
        return cls(record.id, SessionSettings(**record.settings), history, record.last_turn_id, record.created_at)


class SessionLimitReached(Exception):
    """No room for a new session: every session counted against the cap is connected."""


class SessionManager:
    """Sessions by id: create, resume (from memory or the store), detach, expire."""

    def __init__(
        self,
        defaults: SessionSettings,
        store: SessionStore,
        max_items: int,
        max_sessions: int,
        idle_timeout_s: float,
        clock: Callable[[], float] = time.time,
        max_per_address: int | None = None,
    ) -> None:
        self._defaults = defaults
        self.store = store
        self._max_items = max_items
        self._max_sessions = max_sessions
        self._max_per_address = max_per_address or max_sessions
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._writes: asyncio.Queue[tuple[Session, HistoryChange] | None] = asyncio.Queue(WRITE_QUEUE_SIZE)
        self._writer: asyncio.Task[None] | None = None
        self._dirty: set[str] = set()  # sessions whose changes overflowed the queue

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    async def attach(
        self, connection: object, session_id: str | None, address: str = ""
    ) -> tuple[Session, object | None, bool]:
        """The session to serve `connection` (from client `address`), the connection it replaces,
        and whether it was resumed. A new session needs room: under both caps, or made by
        forgetting the longest-disconnected session in the way."""
        await self.expire()
        session = self._sessions.get(session_id) if session_id else None
        if session is None and session_id and (record := await self.store.load(session_id)) is not None:
            await self._make_room(address)
            session = self._adopt(Session.from_record(record, self._max_items), address)
        resumed = session is not None
        if session is None:
            await self._make_room(address)
            settings = SessionSettings(**asdict(self._defaults))
            session = self._adopt(Session(secrets.token_hex(16), settings, History(self._max_items)), address)
            await self.store.save(session.record())
        live = session.live
        previous, live.connection, live.detached_at = live.connection, connection, None
        return session, previous, resumed

    def detach(self, session: Session, connection: object) -> None:
        if session.live.connection is connection:
            session.live.connection = None
            session.live.detached_at = self._clock()

    async def expire(self) -> int:
        """Forget sessions nobody has been connected to for the idle timeout."""
        now = self._clock()
        stale = [
            s for s in self._sessions.values()
            if s.live.connection is None and s.live.detached_at is not None
            and now - s.live.detached_at >= self._idle_timeout_s
        ]  # fmt: skip
        for session in stale:
            await self._forget(session)
        if stale:
            log.info("expired %d idle session(s)", len(stale))
        return len(stale)

    async def run_reaper(self, every_s: float = 5.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.expire()

    def start(self) -> None:
        """Start writing history changes to the store (in order, off the engine's path)."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_changes(), name="session-store-writer")

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then stop the writer (bounded) and close the store."""
        if self._writer is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._writes.put_nowait(None)
            await asyncio.wait([self._writer], timeout=timeout_s)
            await cancel_and_wait([self._writer], 1.0)
            self._writer = None
        await self.store.close()

    async def _make_room(self, address: str) -> None:
        """Room for one more session from `address` under both caps, or SessionLimitReached."""
        mine = [s for s in self._sessions.values() if s.live.address == address]
        if len(mine) >= self._max_per_address:
            await self._forget_oldest_detached(mine, f"{self._max_per_address} sessions already open from your address")
        if len(self._sessions) >= self._max_sessions:
            await self._forget_oldest_detached(list(self._sessions.values()), f"{self._max_sessions} sessions open")

    async def _forget_oldest_detached(self, sessions: list[Session], full: str) -> None:
        detached = [s for s in sessions if s.live.connection is None and s.live.detached_at is not None]
        if not detached:
            raise SessionLimitReached(f"{full}, all of them connected")
        oldest = min(detached, key=lambda s: s.live.detached_at or 0.0)
        log.info("session %s forgotten early to make room", oldest.log_name)
        await self._forget(oldest)

    async def _forget(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
        self._dirty.discard(session.id)
        await self.store.delete(session.id)

    def _adopt(self, session: Session, address: str = "") -> Session:
        session.live.address = address
        self._sessions[session.id] = session
        session.history.follow(lambda change: self._queue_write(session, change))
        return session

    def _queue_write(self, session: Session, change: HistoryChange) -> None:
        if session.id in self._dirty:
            return  # a whole save is due; it will hold this change too
        try:
            self._writes.put_nowait((session, change))
        except asyncio.QueueFull:
            log.warning("the session store is behind; session %s will be saved whole", session.log_name)
            self._dirty.add(session.id)

    async def _write_changes(self) -> None:
        while (entry := await self._writes.get()) is not None:
            session, change = entry
            try:
                await self.store.apply(session.id, change, session.last_turn_id, self._clock())
                if self._dirty and self._writes.empty():
                    await self._save_dirty()
            except Exception:
                log.exception("the session store failed to write a change")

    async def _save_dirty(self) -> None:
        while self._dirty:
            session = self._sessions.get(self._dirty.pop())
            if session is not None:
                await self.store.save(session.record())
