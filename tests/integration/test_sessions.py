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
