"""Conversations outlive the server: a real server process stopped (SIGTERM) or killed (-9)
and started again on the same SQLite file gives a reconnecting client its conversation back,
consistent, with no item duplicated or half written; REST lists, exports and deletes it."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.client import Client
from tests.process import ServerProcess, server_process

__all__ = ["server_process"]  # the fixture

TOKEN = "persistence-test-token-0123456789"


def durable(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"SESSION_STORE": "sqlite", "DATA_DIR": str(tmp_path / "data"), **more}


def rest(
    server: ServerProcess, method: str, path: str, token: str | None = TOKEN, origin: str | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if origin:
        request.add_header("Origin", origin)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


async def test_a_conversation_survives_a_restart_and_resumes(server_process: Any, tmp_path: Path) -> None:
    settings = durable(tmp_path, AUTH_TOKEN=TOKEN)
    server = await server_process(**settings)
    first = await Client.connect(server.url, token=TOKEN)
    await first.send("text_input", text="remember the ocean")
    await first.wait_for("metrics")
    await first.close()
    assert server.terminate() == 0

    server = await server_process(**settings)
    second = await Client.connect(server.url, session_id=first.session_id, token=TOKEN)
    info = second.of_type("session")[0]
    assert (info["session_id"], info["resumed"], info["history_messages"]) == (first.session_id, True, 2)
    shown = (await second.wait_for("history"))["items"]
    assert [(i["role"], i["text"][:20]) for i in shown][:1] == [("user", "remember the ocean")]
    await second.send("text_input", text="and now?")
    reply = await second.wait_for("llm_response", is_complete=True)
    assert reply["content"].startswith('You said: "and now?". This is turn 2') and reply["turn_id"] == 2
    await second.close()

    status, listed = rest(server, "GET", "/v1/sessions")
    assert status == 200 and [s["id"] for s in listed["sessions"]] == [first.session_id]
    assert rest(server, "GET", "/v1/sessions", token=None)[0] == 401, "behind the same admission as /ws"
    assert rest(server, "DELETE", f"/v1/sessions/{first.session_id}", origin="http://evil.example")[0] == 403
    assert rest(server, "GET", "/v1/sessions", origin=f"http://127.0.0.1:{server.port}")[0] == 200, "the page's own"
    status, exported = rest(server, "GET", f"/v1/sessions/{first.session_id}")
    assert status == 200 and [i["type"] for i in exported["items"]] == ["user_message", "assistant_message"] * 2
    assert exported["items"][1]["timings"]["first_audio_sent_ms"] >= 0, "each reply keeps its timings"
    assert rest(server, "DELETE", f"/v1/sessions/{first.session_id}")[0] == 204
    assert rest(server, "GET", f"/v1/sessions/{first.session_id}")[0] == 404
    assert rest(server, "DELETE", f"/v1/sessions/{first.session_id}")[0] == 404


async def test_kill_9_mid_reply_then_resume_keeps_history_consistent(server_process: Any, tmp_path: Path) -> None:
    settings = durable(tmp_path, MOCK_LLM_SENTENCES="8")
    server = await server_process(**settings)
    client = await Client.connect(server.url)
    await client.send("text_input", text="first question")
    await client.wait_for("metrics", timeout=30)
    await client.send("text_input", text="tell me a long story")
    await client.wait_for("tts_start", turn_id=2, sentence_index=1)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    await client.close()

    server = await server_process(**settings)
    resumed = await Client.connect(server.url, session_id=client.session_id)
    assert resumed.of_type("session")[0]["resumed"] is True
    status, exported = rest(server, "GET", f"/v1/sessions/{client.session_id}", token=None)
    items = exported["items"]
    ids = [item["id"] for item in items]
    assert status == 200 and len(ids) == len(set(ids)), "no item twice"
    assert [(i["type"], i["turn_id"]) for i in items][:3] == [
        ("user_message", 1), ("assistant_message", 1), ("user_message", 2),
    ], "every step written before the kill is there; the reply in flight was never written half"  # fmt: skip
    assert all(i["status"] == "completed" for i in items if i["type"] == "assistant_message")
    await resumed.send("text_input", text="where were we?")
    reply = await resumed.wait_for("llm_response", is_complete=True)
    assert reply["turn_id"] == 3 and "This is turn 3 of our conversation" in reply["content"]
    await resumed.close()


async def test_notes_written_by_a_tool_outlive_a_restart(server_process: Any, tmp_path: Path) -> None:
    script = {"remember": [{"name": "notepad_add", "arguments": {"text": "buy milk"}}]}
    settings = durable(tmp_path, MOCK_LLM_TOOL_SCRIPT=json.dumps(script))
    server = await server_process(**settings)
    client = await Client.connect(server.url)
    await client.send("text_input", text="remember to buy milk")
    reply = await client.wait_for("llm_response", is_complete=True)
    assert reply["content"].startswith('The tool said: "noted (1 note(s) on the notepad)".')
    await client.close()
    assert server.terminate() == 0
    server = await server_process(**settings)
    status, exported = rest(server, "GET", f"/v1/sessions/{client.session_id}", token=None)
    assert status == 200 and exported["notepad"] == ["buy milk"]
    assert [i["type"] for i in exported["items"]] == ["user_message", "tool_call", "tool_result", "assistant_message"]
    await asyncio.sleep(0)
