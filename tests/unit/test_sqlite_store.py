"""The SQLite session store: it keeps what the in-memory store keeps, under 100 sessions
writing at once, and its file stays whole when the process is killed mid-write."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError
from engine.history import AssistantMessage, History, HistoryChange, ToolCall, UserMessage
from engine.memory import Summary
from engine.options import SessionSettings
from server.wiring import open_store
from session import Session, SessionManager
from storage.base import SessionRecord
from storage.memory import MemoryStore
from storage.settings import StorageSettings
from storage.sqlite import FILE_NAME, SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


def record(session_id: str = "s1") -> SessionRecord:
    return SessionRecord(session_id, {"language": "en-US"}, [], 0, 100.0, 100.0)


async def play(store: MemoryStore | SQLiteStore) -> SessionRecord | None:
    """The same operations on any store."""
    await store.save(record())
    history = History(10)
    history.follow(lambda change: changes.append(change))
    changes: list[HistoryChange] = []
    user = history.append(UserMessage(1, "hello", "text"))
    reply = history.append(AssistantMessage(1, "a long reply", "a long reply", "completed"))
    history.truncate(reply.id, "a long", 800.0)
    call = history.append(ToolCall(2, "call_1", "book", "{}", "in_progress"))
    history.revise(call.id, status="completed")
    history.delete(user.id)
    for turn, change in enumerate(changes, 1):
        await store.apply("s1", change, turn, 200.0 + turn)
    await store.remember("s1", Summary("earlier", ("x",), 5.0).to_dict(), ["milk"], 300.0)
    return await store.load("s1")


async def test_sqlite_keeps_what_the_memory_store_keeps(tmp_path: Path) -> None:
    durable = SQLiteStore(tmp_path)
    from_disk, from_memory = await play(durable), await play(MemoryStore())
    assert from_disk is not None and from_memory is not None

    def plain(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in i.items() if k not in ("id", "created_at")} for i in items]

    assert plain(from_disk.items) == plain(from_memory.items)
    assert (from_disk.summary, from_disk.notepad, from_disk.last_turn_id, from_disk.updated_at) == (
        from_memory.summary,
        from_memory.notepad,
        from_memory.last_turn_id,
        from_memory.updated_at,
    )
    assert [item["type"] for item in from_disk.items] == ["assistant_message", "tool_call"]
    assert from_disk.items[0]["heard_text"] == "a long" and from_disk.items[1]["status"] == "completed"
    assert (from_disk.summary, from_disk.notepad) == (
        {"text": "earlier", "item_ids": ["x"], "updated_at": 5.0},
        ["milk"],
    )
    await durable.archive("s1", "archive_1")
    assert {(i.id, i.archived, i.items) for i in await durable.list_sessions(10)} == {
        ("s1", False, 2),
        ("archive_1", True, 2),
    }
    assert await durable.purge(updated_before=1e12, keep={"s1"}) == 1 and await durable.ids() == ["s1"]
    await durable.close()
    reopened = SQLiteStore(tmp_path)
    assert await reopened.load("s1") == from_disk, "the file holds it after a close"
    await reopened.close()


async def test_one_hundred_sessions_writing_at_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    manager = SessionManager(SessionSettings(16000, "en-US", "", ""), store, 1000, 200, 60.0)
    manager.start()
    sessions = [(await manager.attach(object(), None, f"10.0.0.{n}"))[0] for n in range(100)]

    async def talk(session: Session) -> None:
        for turn in range(1, 11):
            session.history.append(UserMessage(session.next_turn_id(), f"question {turn}", "text"))
            await asyncio.sleep(0)
            session.history.append(
                AssistantMessage(session.last_turn_id, f"answer {turn}", f"answer {turn}", "completed")
            )
            session.memory.add_note(f"note {turn}")

    await asyncio.gather(*(talk(session) for session in sessions))
    assert await manager.writer.drain(30.0)
    for session in sessions:
        stored = await store.load(session.id)
        assert stored is not None and [i["text"] for i in stored.items] == [
            text for turn in range(1, 11) for text in (f"question {turn}", f"answer {turn}")
        ]  # fmt: skip
        assert stored.notepad == [f"note {turn}" for turn in range(1, 11)] and stored.last_turn_id == 10
    await manager.aclose()
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


WRITER = textwrap.dedent("""
    import asyncio, sys
    from engine.history import AssistantMessage, HistoryChange, UserMessage
    from storage.base import SessionRecord
    from storage.sqlite import SQLiteStore

    async def main():
        store = SQLiteStore(sys.argv[1])
        for s in range(4):
            await store.save(SessionRecord(f"s{s}", {}, [], 0, 1.0, 1.0))
        turn = 0
        while True:
            turn += 1
            for s in range(4):
                item = UserMessage(turn, "x" * 2000 + str(turn), "text") if turn % 2 else AssistantMessage(
                    turn, "y" * 3000, "y" * 3000, "completed")
                await store.apply(f"s{s}", HistoryChange("append", item.id, item), turn, float(turn))
            if turn == 20:
                print("writing", flush=True)

    asyncio.run(main())
""")


def test_a_kill_mid_write_leaves_the_file_whole_and_no_item_half_written(tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    time.sleep(0.3)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for session in ("s0", "s1", "s2", "s3"):
            rows = db.execute("SELECT seq, data FROM items WHERE session_id = ? ORDER BY seq", (session,)).fetchall()
            turns = [json.loads(data)["turn_id"] for _, data in rows]  # each row parses: none is half written
            assert turns == list(range(1, len(turns) + 1)) and len(turns) >= 20, "a prefix, with no hole"
            last = db.execute("SELECT last_turn_id FROM sessions WHERE id = ?", (session,)).fetchone()[0]
            assert last == len(turns), "the item and the session's turn counter are written together"


def test_a_data_directory_that_cannot_hold_the_store_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-database").mkdir()
    (tmp_path / "not-a-database" / FILE_NAME).write_bytes(b"this is not SQLite" * 100)
    for data_dir in ("/proc/no-such-dir", str(tmp_path / "not-a-database")):
        with pytest.raises(ConfigError) as refused:
            open_store(StorageSettings(_env_file=None, data_dir=data_dir))
        (problem,) = refused.value.problems
        assert problem.variable == "DATA_DIR" and "cannot open the session store" in problem.message
