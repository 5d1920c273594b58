"""Sessions outlive connections: reconnecting with the session_id resumes history."""

from __future__ import annotations

import asyncio

import websockets

from tests.client import Client
from tests.conftest import StartServer


async def test_reconnect_with_session_id_resumes_history(start_server: StartServer) -> None:
    server = await start_server()
    first = await Client.connect(server.url)
    await first.send("text_input", text="remember the ocean")
    await first.wait_for("metrics")
    await first.close()

    second = await Client.connect(server.url, session_id=first.session_id)
    info = second.of_type("session")[0]
    assert info["session_id"] == first.session_id and info["resumed"] is True and info["history_messages"] == 2
    await second.send("text_input", text="and now?")
    reply = await second.wait_for("llm_response", is_complete=True)
    assert reply["content"].startswith('You said: "and now?". This is turn 2') and reply["turn_id"] == 2
    await second.close()


async def test_a_resumed_session_sends_its_history_to_show(start_server: StartServer) -> None:
    server = await start_server(mock_llm_sentences=6, mock_tts_ms_per_char=25)
    first = await Client.connect(server.url)
    assert first.of_type("history")[0]["items"] == [], "a new session has nothing to show"
    await first.send("text_input", text="remember the ocean")
    await first.wait_for("metrics")
    await first.send("text_input", text="now tell me a long story")
    await first.wait_for("tts_start", turn_id=2, sentence_index=1)
    await first.send("interrupt")
    await first.wait_for("metrics", turn_id=2)
    await first.close()

    second = await Client.connect(server.url, session_id=first.session_id)
    kinds = [e["type"] for e in second.events[:2]]
    items = second.of_type("history")[0]["items"]
    stored = server.session(first.session_id).history.items
    assert kinds == ["session", "history"] and [i["id"] for i in items] == [item.id for item in stored]
    assert [(i["role"], i["turn_id"], i["status"], i["source"]) for i in items] == [
        ("user", 1, None, "text"), ("assistant", 1, "completed", None),
        ("user", 2, None, "text"), ("assistant", 2, "interrupted", None),
    ]  # fmt: skip
    assert items[0]["text"] == "remember the ocean" and items[1]["heard_text"] == items[1]["text"]
    cut = items[3]
    assert cut["text"].startswith(cut["heard_text"]) and len(cut["heard_text"]) < len(cut["text"])

    await second.send("reset")
    await second.wait_for("reset_acknowledged")
    await second.close()
    third = await Client.connect(server.url, session_id=first.session_id)
    assert third.of_type("session")[0]["resumed"] is True and third.of_type("history")[0]["items"] == []
    await third.close()


async def test_a_newer_connection_takes_over_the_session(start_server: StartServer) -> None:
    server = await start_server()
    first = await Client.connect(server.url)
    second = await Client.connect(server.url, session_id=first.session_id)
    assert await first.wait_closed() == 4001
    await second.send("text_input", text="still here")
    await second.wait_for("tts_start")
    assert server.session(first.session_id).live.connection is not None
    await second.close()


async def test_unknown_session_id_starts_a_new_session(start_server: StartServer) -> None:
    server = await start_server()
    client = await Client.connect(server.url, session_id="no-such-session")
    info = client.of_type("session")[0]
    assert info["resumed"] is False and info["session_id"] != "no-such-session"
    await client.close()


async def test_session_limit_refuses_with_try_again_later(start_server: StartServer) -> None:
    server = await start_server(max_sessions=1)
    first = await Client.connect(server.url)
    async with websockets.connect(server.url) as ws:
        message = await ws.recv()
        assert '"server_busy"' in message
        await ws.wait_closed()
        assert ws.close_code == 1013
    await first.close()


async def test_a_disconnected_session_expires_after_the_idle_timeout(start_server: StartServer) -> None:
    server = await start_server(session_idle_timeout_s=0.3)
    client = await Client.connect(server.url)
    session = server.session(client.session_id)
    await client.close()
    async with asyncio.timeout(5):
        while session.live.connection is not None:
            await asyncio.sleep(0.01)
    await server.sessions.expire()
    assert server.sessions.get(client.session_id) is session, "kept for a reconnect"
    await asyncio.sleep(0.35)
    await server.sessions.expire()
    assert server.sessions.get(client.session_id) is None
