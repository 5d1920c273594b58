"""/v1/realtime at the wire: the handshake as the SDK and browsers make it, and bad input answered
with an error in OpenAI's shape (the offending event_id included) while the session goes on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.conftest import StartServer
from tests.integration.test_admission import SECRET, refused
from tests.realtime_client import b64, check_invariants, realtime


def realtime_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/v1/realtime?model=parley-mock"


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        event = json.loads(await ws.recv())
        if event["type"] == kind:
            return dict(event)


async def test_the_handshake_checks_the_key_and_echoes_realtime_only_when_offered(start_server: StartServer) -> None:
    server = await start_server(auth_token=SECRET)
    url = realtime_url(server.http_url)
    assert await refused(url) == 403
    assert await refused(url, additional_headers={"Authorization": "Bearer not-the-key-not-the-key"}) == 403
    with pytest.raises(InvalidStatus):  # the SDK with a wrong key: HTTP 403
        async with realtime(server.http_url, key="not-the-key-not-the-key"):
            pass
    async with realtime(server.http_url, key=SECRET) as rt:  # the SDK: Authorization: Bearer
        assert (await rt.wait_for("session.created"))["session"]["model"] == "parley-mock"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {SECRET}"}) as ws:
        assert ws.subprotocol is None, "nothing is echoed when nothing was offered"
        await next_of(ws, "session.created")
    browser = ["realtime", f"openai-insecure-api-key.{SECRET}"]
    async with websockets.connect(url, subprotocols=browser, origin=server.http_url) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "realtime", "the key itself is never echoed back"
        await next_of(ws, "session.created")
    foreign = "https://evil.example"
    assert await refused(url, subprotocols=browser, origin=foreign) == 403


async def test_bad_events_get_an_error_naming_them_and_the_session_goes_on(start_server: StartServer) -> None:
    server = await start_server()
    async with websockets.connect(realtime_url(server.http_url)) as ws:
        await next_of(ws, "session.created")
        cases: list[tuple[str, str, str | None]] = [
            ("{not json", "invalid_json", None),
            (json.dumps({"type": "no.such.event", "event_id": "e1"}), "invalid_value", "type"),
            (json.dumps({"type": "session.update", "event_id": "e2", "session": {"type": "realtime", "audio": {
                "input": {"format": {"type": "audio/pcmu"}}}}}), "invalid_value", "session.audio.input.format"),
            (json.dumps({"type": "session.update", "event_id": "e3", "session": {"tool_choice": "required"}}),
             "invalid_value", "session.tool_choice"),
            (json.dumps({"type": "input_audio_buffer.append", "event_id": "e4", "audio": "%%%"}), "invalid_value",
             "audio"),
            (json.dumps({"type": "conversation.item.retrieve", "event_id": "e5", "item_id": "item_x"}),
             "item_not_found", "item_id"),
            (json.dumps({"type": "response.cancel", "event_id": "e6"}), "response_cancel_not_active", None),
            (json.dumps({"type": "input_audio_buffer.commit", "event_id": "e7"}), "input_audio_buffer_commit_empty",
             None),
        ]  # fmt: skip
        for raw, code, param in cases:
            await ws.send(raw)
            error = (await next_of(ws, "error"))["error"]
            assert (error["code"], error["param"]) == (code, param), error
            sent = json.loads(raw) if raw.startswith('{"') else {}
            assert error["event_id"] == sent.get("event_id") and error["type"] == "invalid_request_error"
        await ws.send(b"\x00\x01")
        assert (await next_of(ws, "error"))["error"]["code"] == "invalid_request"
        await ws.send(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "still here?"}],
                    },
                }
            )
        )
        await ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
        done = await next_of(ws, "response.done")
        assert done["response"]["status"] == "completed"


async def test_a_second_response_while_one_runs_is_refused(start_server: StartServer) -> None:
    server = await start_server(mock_llm_first_token_ms=300)
    async with realtime(server.http_url) as rt:
        await rt.wait_for("session.created")
        await rt.connection.response.create()
        await rt.wait_for("response.created")
        await rt.connection.response.create()
        error = await rt.wait_for("error")
        assert error["error"]["code"] == "conversation_already_has_active_response"
        rt.events.remove(error)
        await rt.wait_for("response.done")
        check_invariants(rt.events)
        await rt.connection.input_audio_buffer.append(audio=b64(bytes(4800)))
        await rt.connection.input_audio_buffer.clear()
        await rt.wait_for("input_audio_buffer.cleared")


async def test_closing_mid_response_leaves_no_task_and_no_follower(start_server: StartServer) -> None:
    server = await start_server()
    baseline = len(asyncio.all_tasks())
    sessions = []
    for _ in range(3):
        ws = await websockets.connect(realtime_url(server.http_url))
        created = await next_of(ws, "session.created")
        sessions.append(created["session"]["id"])
        await ws.send(json.dumps({"type": "response.create"}))
        await next_of(ws, "response.output_audio.delta")
        ws.transport.abort()  # vanished mid-reply, no close handshake
    async with asyncio.timeout(10):
        while len(asyncio.all_tasks()) > baseline or any(
            server.session(s).live.connection is not None for s in sessions
        ):
            await asyncio.sleep(0.05)
    for session_id in sessions:
        history = server.session(session_id).history
        assert history._followers == [h for h in history._followers if "RealtimeSink" not in repr(h)]


async def test_a_response_keeps_its_own_metadata_and_token_limit(start_server: StartServer) -> None:
    server = await start_server(max_text_chars=50)
    async with realtime(server.http_url) as rt:
        await rt.wait_for("session.created")
        await rt.connection.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x" * 51}]}
        )
        error = await rt.wait_for("error")
        assert error["error"]["param"] == "item.content" and "50 characters" in error["error"]["message"]
        rt.events.remove(error)
        await rt.connection.response.create(
            response={"output_modalities": ["text"], "metadata": {"topic": "test"}, "max_output_tokens": 5}
        )
        created = await rt.wait_for("response.created")
        assert created["response"]["metadata"] == {"topic": "test"} and created["response"]["max_output_tokens"] == 5
        done = await rt.wait_for("response.done")
        assert done["response"]["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
        text = rt.of("response.output_text.done")[0]["text"]
        assert 0 < len(text.split()) <= 5, "the mock's tokens are words: at most five of them"
        check_invariants(rt.events)


async def test_truncating_the_item_of_a_running_response_cuts_it_there(start_server: StartServer) -> None:
    server = await start_server(mock_llm_sentences=6)
    async with realtime(server.http_url) as rt:
        await rt.wait_for("session.created")
        await rt.connection.response.create()
        delta = await rt.wait_for("response.output_audio.delta")
        await asyncio.sleep(0.5)
        await rt.connection.conversation.item.truncate(item_id=delta["item_id"], content_index=0, audio_end_ms=300)
        done = await rt.wait_for("response.done")
        assert done["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        await rt.wait_for("conversation.item.truncated", item_id=delta["item_id"], audio_end_ms=300)
        check_invariants(rt.events)
