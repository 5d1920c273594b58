"""Sessions: conversation history and per-session settings that outlive a connection.

A client that reconnects with its session_id gets its history back; a session nobody is
connected to expires after SESSION_IDLE_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from services.base import ChatMessage

log = logging.getLogger(__name__)

INTERRUPTED_NOTE = "The user interrupted the previous reply; they heard only the part above."


@dataclass
class HistoryEntry:
    role: str  # "user" | "assistant"
    content: str
    turn_id: int
    interrupted: bool = False


@dataclass
class History:
    """The system prompt plus user and assistant messages, bounded in length."""

    system_prompt: str
    max_messages: int
    entries: list[HistoryEntry] = field(default_factory=list)

    def add(self, role: str, content: str, turn_id: int, interrupted: bool = False) -> HistoryEntry:
        entry = HistoryEntry(role, content, turn_id, interrupted)
        self.entries.append(entry)
        del self.entries[: max(0, len(self.entries) - self.max_messages)]
        return entry

    def remove(self, entry: HistoryEntry) -> None:
        with contextlib.suppress(ValueError):
            self.entries.remove(entry)

    def clear(self) -> None:
        self.entries.clear()

    def llm_messages(self) -> list[ChatMessage]:
        """Chat messages for the LLM; an interrupted reply is followed by a note saying so."""
        messages: list[ChatMessage] = [{"role": "system", "content": self.system_prompt}]
        for entry in self.entries:
            messages.append({"role": entry.role, "content": entry.content})
            if entry.interrupted:
                messages.append({"role": "system", "content": INTERRUPTED_NOTE})
        return messages

    def as_dicts(self) -> list[dict[str, Any]]:
        return [
            {"role": e.role, "content": e.content, "turn_id": e.turn_id, "interrupted": e.interrupted}
            for e in self.entries
        ]


@dataclass
class SessionStats:
    audio_bytes_in: int = 0  # microphone PCM accepted, all connections together
    playback_acks: int = 0  # `playback` messages received


@dataclass
class SessionConfig:
    """What a client may change with `configure`."""

    input_sample_rate: int
    language: str
    system_prompt: str
    voice: str


class Session:
    def __init__(self, session_id: str, config: SessionConfig, max_messages: int) -> None:
        self.id = session_id
        self.config = config
        self.history = History(config.system_prompt, max_messages)
        self._last_turn_id = 0
        self.stats = SessionStats()
        self.connection: object | None = None  # the handler attached now, if any
        self.detached_at: float | None = None

    def next_turn_id(self) -> int:
        self._last_turn_id = (self._last_turn_id + 1) % (1 << 32) or 1
        return self._last_turn_id


class SessionLimitReached(Exception):
    pass


class SessionManager:
    """Sessions by id: create, resume, detach, expire."""

    def __init__(self, default_config: SessionConfig, max_messages: int, max_sessions: int, idle_timeout_s: float):
        self._default = default_config
        self._max_messages = max_messages
        self._max_sessions = max_sessions
        self._idle_timeout_s = idle_timeout_s
        self._sessions: dict[str, Session] = {}
        self._reaper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def attach(self, connection: object, session_id: str | None) -> tuple[Session, object | None]:
        """The session to serve `connection` (resumed when known) and the connection it replaces."""
        self.expire()
        session = self._sessions.get(session_id) if session_id else None
        if session is None:
            if len(self._sessions) >= self._max_sessions:
                raise SessionLimitReached(f"{self._max_sessions} sessions already open")
            config = SessionConfig(**vars(self._default))
            session = Session(uuid.uuid4().hex, config, self._max_messages)
            self._sessions[session.id] = session
        previous, session.connection, session.detached_at = session.connection, connection, None
        return session, previous

    def detach(self, session: Session, connection: object) -> None:
        if session.connection is connection:
            session.connection = None
            session.detached_at = time.monotonic()

    def expire(self) -> int:
        """Drop sessions nobody has been connected to for the idle timeout."""
        now = time.monotonic()
        stale = [
            sid
            for sid, s in self._sessions.items()
            if s.connection is None and s.detached_at is not None and now - s.detached_at >= self._idle_timeout_s
        ]
        for sid in stale:
            del self._sessions[sid]
        if stale:
            log.info("expired %d idle session(s)", len(stale))
        return len(stale)

    async def run_reaper(self, every_s: float = 5.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.expire()
