"""Sessions: a conversation's persistent state, and the manager that attaches connections to it.

A Session's persistent part (id, settings, history items, turn counter) lives in a
SessionStore and outlives connections and, with a persistent store, the process; its
live part (the attached connection, counters) exists only while it is in memory. A
client that reconnects with its session_id gets its conversation back; a session nobody
is connected to expires SESSION_IDLE_TIMEOUT_S after its last connection left (wall clock).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from engine.history import History, ToolCall, item_from_dict, item_to_dict
from engine.memory import Memory, Summary
from engine.options import SessionSettings
from services.secrets import short_hash
from storage.base import SessionRecord, SessionStore, StoreFailure
from storage.writer import StoreWriter

log = logging.getLogger(__name__)


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
        created_at: float | None = None, memory: Memory | None = None,
    ) -> None:  # fmt: skip
        self.id = session_id
        self.settings = settings
        self.history = history
        self.memory = memory or Memory()
        self.last_turn_id = last_turn_id
        self.created_at = time.time() if created_at is None else created_at
        self.live = LiveState()
        self.log_name = short_hash(session_id)  # the id resumes the session: logs never show it

    def next_turn_id(self) -> int:
        self.last_turn_id = (self.last_turn_id + 1) % (1 << 32) or 1
        return self.last_turn_id

    def record(self) -> SessionRecord:
        items = [item_to_dict(item) for item in self.history.items]
        summary = self.memory.summary.to_dict() if self.memory.summary else None
        return SessionRecord(
            self.id, asdict(self.settings), items, self.last_turn_id, self.created_at, time.time(), summary,
            self.memory.notes(),
        )  # fmt: skip

    @classmethod
    def from_record(cls, record: SessionRecord, max_items: int) -> Session:
        """The session as stored; a tool call still in progress when the server stopped is marked
        cancelled (it is never run again by itself; the LLM is told it did not finish)."""
        items = [item_from_dict(item) for item in record.items]
        items = [replace(i, status="cancelled") if isinstance(i, ToolCall) and i.status == "in_progress" else i
                 for i in items]  # fmt: skip
        memory = Memory(Summary.from_dict(record.summary) if record.summary else None, record.notepad)
        return cls(
            record.id, SessionSettings(**record.settings), History(max_items, items), record.last_turn_id,
            record.created_at, memory,
        )  # fmt: skip


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
        archive_on_reset: bool = False,
        retention_s: float = 0.0,
    ) -> None:
        self._defaults = defaults
        self.store = store
        self._max_items = max_items
        self._max_sessions = max_sessions
        self._max_per_address = max_per_address or max_sessions
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self.writer = StoreWriter(store, self._sessions.get, archive_on_reset, clock)
        self._retention_s = retention_s  # 0: stored sessions are kept for ever
        self._purged_at = float("-inf")

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
        if session is None and session_id:
            await self.writer.drain()  # its last changes, if it just left memory, are in the file first
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

    async def run_reaper(self, every_s: float = 5.0, purge_every_s: float = 3600.0) -> None:
        while True:
            try:
                await self.expire()
                if self._retention_s and self._clock() - self._purged_at >= purge_every_s:
                    await self.purge()
            except StoreFailure as error:  # the next round tries again
                log.error("session upkeep failed: %s", error)
            await asyncio.sleep(every_s)

    async def purge(self) -> int:
        """Delete stored sessions older than the retention (none held in memory)."""
        self._purged_at = self._clock()
        purged = await self.store.purge(self._clock() - self._retention_s, frozenset(self._sessions))
        if purged:
            log.info("deleted %d stored session(s) older than the retention", purged)
        return purged

    async def delete(self, session_id: str) -> tuple[bool, object | None]:
        """Delete a session everywhere: whether it existed, and the connection attached to it (to close)."""
        session = self._sessions.pop(session_id, None)
        self.writer.forget(session_id)
        existed = session is not None or await self.store.load(session_id) is not None
        await self.store.delete(session_id)
        return existed, session.live.connection if session is not None else None

    def start(self) -> None:
        """Start writing changes to the store (in order, off the engine's path)."""
        self.writer.start()

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then stop the writer (bounded) and close the store."""
        await self.writer.aclose(timeout_s)
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
        """Out of memory; out of the store too unless it is durable (then it can still be resumed)."""
        self._sessions.pop(session.id, None)
        self.writer.forget(session.id)
        if not self.store.durable:
            await self.store.delete(session.id)

    def _adopt(self, session: Session, address: str = "") -> Session:
        session.live.address = address
        self._sessions[session.id] = session
        session.history.follow(lambda change: self.writer.queue(session, change))
        session.memory.follow(lambda memory: self.writer.queue(session, memory))
        return session
