"""The durable SessionStore: one SQLite file (WAL) under DATA_DIR, created on first run.

Every operation is one transaction, so a crash (kill -9, power cut) at any point leaves the
file whole and each item either written or not, never half. SQLite's calls block, so they
run on one thread of their own, in the order they were made; the event loop only awaits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from engine.history import HistoryChange, item_to_dict
from storage.base import SessionInfo, SessionRecord, StoreFailure

log = logging.getLogger(__name__)
T = TypeVar("T")
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, settings TEXT NOT NULL, last_turn_id INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, summary TEXT, notepad TEXT NOT NULL DEFAULT '[]',
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (session_id, id)
);
CREATE INDEX IF NOT EXISTS items_in_order ON items (session_id, seq);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions (updated_at);
"""
APPEND = """INSERT INTO items (session_id, seq, id, data)
VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM items WHERE session_id = ?1), ?2, ?3)
ON CONFLICT (session_id, id) DO UPDATE SET data = excluded.data"""
FILE_NAME = "sessions.sqlite3"


def open_database(path: Path, synchronous: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreFailure(f"{path} was written by a newer Parley (schema {version})")
    db.executescript(SCHEMA)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db


class SQLiteStore:
    durable = True

    def __init__(self, data_dir: str | Path, synchronous: str = "NORMAL") -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-store")
        try:
            self._db: sqlite3.Connection = self._thread.submit(open_database, self.path, synchronous).result()
        except sqlite3.Error as error:
            self._thread.shutdown(wait=False)
            raise StoreFailure(f"{self.path}: {error}") from error

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def transaction() -> T:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, transaction)
        except sqlite3.Error as error:
            raise StoreFailure(f"the session store failed: {error}") from error

    async def load(self, session_id: str) -> SessionRecord | None:
        return await self._run(lambda db: _load(db, session_id))

    async def save(self, record: SessionRecord) -> None:
        await self._run(lambda db: _save(db, record))

    async def apply(self, session_id: str, change: HistoryChange, last_turn_id: int, updated_at: float) -> None:
        def work(db: sqlite3.Connection) -> None:
            touched = db.execute(
                "UPDATE sessions SET last_turn_id = ?, updated_at = ? WHERE id = ?",
                (last_turn_id, updated_at, session_id),
            ).rowcount
            if not touched:
                return
            if change.op == "clear":
                db.execute("DELETE FROM items WHERE session_id = ?", (session_id,))
            elif change.op == "delete":
                db.execute("DELETE FROM items WHERE session_id = ? AND id = ?", (session_id, change.item_id))
            elif change.item is not None:
                db.execute(APPEND, (session_id, change.item.id, json.dumps(item_to_dict(change.item))))

        await self._run(work)

    async def remember(
        self, session_id: str, summary: dict[str, Any] | None, notepad: list[str], updated_at: float
    ) -> None:
        values = (json.dumps(summary) if summary is not None else None, json.dumps(notepad), updated_at, session_id)
        await self._run(
            lambda db: db.execute("UPDATE sessions SET summary = ?, notepad = ?, updated_at = ? WHERE id = ?", values)
        )

    async def archive(self, session_id: str, archive_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            record = _load(db, session_id)
            if record is not None:
                record.id, record.archived = archive_id, True
                _save(db, record)

        await self._run(work)

    async def delete(self, session_id: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)))

    async def ids(self) -> list[str]:
        return await self._run(lambda db: [row[0] for row in db.execute("SELECT id FROM sessions")])

    async def list_sessions(self, limit: int, offset: int = 0) -> list[SessionInfo]:
        query = """SELECT s.id, s.created_at, s.updated_at, (SELECT COUNT(*) FROM items i WHERE i.session_id = s.id),
                   s.archived FROM sessions s ORDER BY s.updated_at DESC LIMIT ? OFFSET ?"""
        rows = await self._run(lambda db: db.execute(query, (limit, offset)).fetchall())
        return [SessionInfo(row[0], row[1], row[2], row[3], bool(row[4])) for row in rows]

    async def purge(self, updated_before: float, keep: Collection[str] = ()) -> int:
        def work(db: sqlite3.Connection) -> int:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS kept (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM kept")
            db.executemany("INSERT OR IGNORE INTO kept VALUES (?)", [(key,) for key in keep])
            query = "DELETE FROM sessions WHERE updated_at < ? AND id NOT IN (SELECT id FROM kept)"
            return db.execute(query, (updated_before,)).rowcount

        return await self._run(work)

    async def close(self) -> None:
        """Close the file (its WAL checkpointed) and end the thread."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self._thread, self._db.close), 5.0)
        except (TimeoutError, sqlite3.Error) as error:
            log.warning("closing the session store: %r", error)
        self._thread.shutdown(wait=False)


def _load(db: sqlite3.Connection, session_id: str) -> SessionRecord | None:
    row = db.execute(
        "SELECT settings, last_turn_id, created_at, updated_at, summary, notepad, archived FROM sessions WHERE id = ?",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    items = [json.loads(data) for (data,) in db.execute(
        "SELECT data FROM items WHERE session_id = ? ORDER BY seq", (session_id,)
    )]  # fmt: skip
    summary = json.loads(row[4]) if row[4] else None
    return SessionRecord(
        session_id, json.loads(row[0]), items, row[1], row[2], row[3], summary, json.loads(row[5]), bool(row[6])
    )


def _save(db: sqlite3.Connection, record: SessionRecord) -> None:
    db.execute("DELETE FROM sessions WHERE id = ?", (record.id,))
    db.execute(
        "INSERT INTO sessions (id, settings, last_turn_id, created_at, updated_at, summary, notepad, archived) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (record.id, json.dumps(record.settings), record.last_turn_id, record.created_at, record.updated_at,
         json.dumps(record.summary) if record.summary is not None else None, json.dumps(record.notepad),
         int(record.archived)),
    )  # fmt: skip
    db.executemany(
        "INSERT INTO items (session_id, seq, id, data) VALUES (?, ?, ?, ?)",
        [(record.id, seq, item["id"], json.dumps(item)) for seq, item in enumerate(record.items, 1)],
    )
