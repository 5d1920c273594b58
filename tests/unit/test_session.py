"""History and the session manager."""

from __future__ import annotations

import pytest

from session import INTERRUPTED_NOTE, History, SessionConfig, SessionLimitReached, SessionManager


def test_history_is_bounded_and_tells_the_llm_about_interruptions() -> None:
    history = History("Be brief.", max_messages=3)
    history.add("user", "one", 1)
    history.add("assistant", "first reply", 1, interrupted=True)
    history.add("user", "two", 2)
    assert history.llm_messages() == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "first reply"},
        {"role": "system", "content": INTERRUPTED_NOTE},
        {"role": "user", "content": "two"},
    ]
    history.add("assistant", "second reply", 2)
    assert [e.content for e in history.entries] == ["first reply", "two", "second reply"]


def manager(max_sessions: int = 2) -> SessionManager:
    return SessionManager(SessionConfig(24000, "en-US", "Hi.", ""), 10, max_sessions, idle_timeout_s=60)


def test_attach_resumes_a_known_session_and_reports_the_connection_it_replaces() -> None:
    sessions = manager()
    old, new = object(), object()
    first, previous = sessions.attach(old, None)
    assert previous is None and first.connection is old
    again, previous = sessions.attach(new, first.id)
    assert again is first and previous is old
    sessions.detach(first, old)  # a stale connection leaving does not detach the new one
    assert first.connection is new


def test_session_config_is_per_session() -> None:
    sessions = manager()
    a, _ = sessions.attach("a", None)
    b, _ = sessions.attach("b", None)
    a.config.voice = "alto"
    assert b.config.voice == ""


def test_the_session_limit_refuses_new_sessions() -> None:
    sessions = manager(max_sessions=1)
    sessions.attach("a", None)
    with pytest.raises(SessionLimitReached):
        sessions.attach("b", None)


def test_turn_ids_increase_and_wrap_to_one() -> None:
    sessions = manager()
    session, _ = sessions.attach("a", None)
    assert [session.next_turn_id() for _ in range(3)] == [1, 2, 3]
    session._last_turn_id = (1 << 32) - 1
    assert session.next_turn_id() == 1
