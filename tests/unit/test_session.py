"""History items and their operations, sessions, and the store that follows them."""

from __future__ import annotations

import asyncio

import pytest

from engine.history import (
    INTERRUPTED_NOTE,
    NO_RESULT,
    AssistantMessage,
    History,
    HistoryChange,
    ToolCall,
    ToolResult,
    UserMessage,
    item_from_dict,
    item_to_dict,
)
from engine.options import SessionSettings
from session import Session, SessionLimitReached, SessionManager
from storage.memory import MemoryStore


def test_history_tells_the_llm_only_what_was_heard_and_once_that_it_was_cut() -> None:
    history = History(max_items=10)
    history.append(UserMessage(1, "one", "speech"))
    history.append(AssistantMessage(1, "first reply, long", "first reply", "interrupted", 900))
    history.append(UserMessage(2, "two", "text"))
    assert history.llm_messages("Be brief.") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "first reply"},
        {"role": "system", "content": INTERRUPTED_NOTE},
        {"role": "user", "content": "two"},
    ]
    history.append(AssistantMessage(2, "unheard", "", "interrupted"))  # cut before a word was heard
    history.append(UserMessage(3, "three", "text"))
    assert history.llm_messages("Be brief.")[1:] == [  # the first cut was told once, in the request after it
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "first reply"},
        {"role": "user", "content": "two"},
        {"role": "user", "content": "three"},
    ]


def test_tool_calls_and_results_reach_the_llm_in_openai_form() -> None:
    history = History(max_items=10)
    history.append(ToolCall(1, "call_1", "current_time", '{"timezone": "UTC"}', "completed"))
    history.append(ToolResult(1, "call_1", "12:00"))
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "current_time", "arguments": '{"timezone": "UTC"}'},
    }
    assert history.llm_messages("S")[1:] == [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "12:00", "tool_call_id": "call_1"},
    ]


def test_every_operation_is_told_to_followers_with_the_item_as_it_now_is() -> None:
    history = History(max_items=3)
    changes: list[HistoryChange] = []
    history.follow(changes.append)
    user = history.append(UserMessage(1, "one", "speech"))
    reply = history.append(AssistantMessage(1, "a b c", "a b c", "completed", 1000))
    history.truncate(reply.id, "a", 300)
    history.revise(reply.id, heard_text="a b")
    history.append(UserMessage(2, "two", "speech"))
    history.append(UserMessage(3, "three", "speech"))  # over max_items: the oldest goes
    history.clear()
    assert [(c.op, c.item_id) for c in changes] == [
        ("append", user.id), ("append", reply.id), ("truncate", reply.id), ("revise", reply.id),
        ("append", changes[4].item_id), ("append", changes[5].item_id), ("delete", user.id), ("clear", None),
    ]  # fmt: skip
    truncated = changes[2].item
    assert isinstance(truncated, AssistantMessage)
    assert (truncated.heard_text, truncated.audio_ms, truncated.status) == ("a", 300, "interrupted")
    assert changes[3].item is not None and changes[3].item.heard_text == "a b"  # type: ignore[union-attr]
    assert history.items == ()


def test_items_keep_their_ids_through_revisions_and_serialization() -> None:
    history = History(max_items=5)
    item = history.append(AssistantMessage(1, "text", "text", "completed"))
    revised = history.revise(item.id, heard_text="te")
    assert revised.id == item.id and history.get(item.id) == revised
    assert item_from_dict(item_to_dict(revised)) == revised
    with pytest.raises(KeyError):
        history.truncate(history.append(UserMessage(2, "hi", "text")).id, "", 0)


def manager(max_sessions: int = 2, clock: list[float] | None = None) -> SessionManager:
    now = clock if clock is not None else [1000.0]
    return SessionManager(
        SessionSettings(24000, "en-US", "Hi.", ""), MemoryStore(), 10, max_sessions, idle_timeout_s=60,
        clock=lambda: now[0],
    )  # fmt: skip


async def test_attach_resumes_a_known_session_and_reports_the_connection_it_replaces() -> None:
    sessions = manager()
    old, new = object(), object()
    first, previous, resumed = await sessions.attach(old, None)
    assert previous is None and first.live.connection is old and not resumed
    again, previous, resumed = await sessions.attach(new, first.id)
    assert again is first and previous is old and resumed
    sessions.detach(first, old)  # a stale connection leaving does not detach the new one
    assert first.live.connection is new


async def test_session_settings_are_per_session() -> None:
    sessions = manager()
    a, _, _ = await sessions.attach("a", None)
    b, _, _ = await sessions.attach("b", None)
    a.settings.voice = "alto"
    assert b.settings.voice == ""


async def test_the_session_limit_refuses_new_sessions() -> None:
    sessions = manager(max_sessions=1)
    await sessions.attach("a", None)
    with pytest.raises(SessionLimitReached):
        await sessions.attach("b", None)


async def test_turn_ids_increase_and_wrap_to_one() -> None:
    sessions = manager()
    session, _, _ = await sessions.attach("a", None)
    assert [session.next_turn_id() for _ in range(3)] == [1, 2, 3]
    session.last_turn_id = (1 << 32) - 1
    assert session.next_turn_id() == 1


async def test_the_store_follows_every_history_operation() -> None:
    sessions = manager()
    sessions.start()
    session, _, _ = await sessions.attach("a", None)
    session.next_turn_id()
    session.history.append(UserMessage(1, "hello", "speech"))
    reply = session.history.append(AssistantMessage(1, "hi there", "hi there", "completed"))
    session.history.truncate(reply.id, "hi", 200)
    for _ in range(5):
        await asyncio.sleep(0)  # the writer runs between engine steps
    record = await sessions.store.load(session.id)
    assert record is not None and record.last_turn_id == 1
    assert [item_from_dict(i) for i in record.items] == list(session.history.items)
    rebuilt = Session.from_record(record, 10)
    assert rebuilt.history.items == session.history.items and rebuilt.settings == session.settings
    await sessions.aclose()


async def test_a_disconnected_session_expires_by_the_wall_clock() -> None:
    now = [1000.0]
    sessions = manager(clock=now)
    session, _, _ = await sessions.attach("a", None)
    sessions.detach(session, "a")
    now[0] += 59
    assert await sessions.expire() == 0 and sessions.get(session.id) is session
    now[0] += 1
    assert await sessions.expire() == 1 and sessions.get(session.id) is None
    assert await sessions.store.load(session.id) is None
    again, _, resumed = await sessions.attach("b", session.id)
    assert not resumed and again.id != session.id


def test_a_tool_call_in_flight_when_the_server_stopped_is_resumed_as_cancelled_never_run_again() -> None:
    history = History(10)
    history.append(UserMessage(1, "book it", "text"))
    history.append(ToolCall(1, "call_1", "book", "{}", "in_progress"))
    stored = Session("s1", SessionSettings(16000, "en-US", "", ""), history).record()
    resumed = Session.from_record(stored, 10)
    call = resumed.history.items[1]
    assert isinstance(call, ToolCall) and call.status == "cancelled"
    told = resumed.history.llm_messages("")[-1]
    assert told == {"role": "tool", "content": NO_RESULT["cancelled"], "tool_call_id": "call_1"}
