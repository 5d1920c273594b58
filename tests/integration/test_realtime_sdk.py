"""The official `openai` SDK's Realtime client against /v1/realtime on the mock providers.

Every event is validated against its own SDK class (tests/realtime_client.py); the protocol's
invariants are checked over the whole session; no `error` event is expected unless a test asks
for one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from engine.history import AssistantMessage, History
from tests.client import load_speech
from tests.conftest import StartServer
from tests.realtime_client import Recorder, b64, check_invariants, realtime

ORDER_TOOL: Any = {"type": "function", "name": "get_order_status", "description": "Where an order is.",
              "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                             "required": ["order_id"]}}  # fmt: skip
TOOL_SCRIPT = json.dumps({"my order": [{"name": "get_order_status", "arguments": {"order_id": "42"}}]})


async def spoken_turn(rt: Recorder) -> dict[str, Any]:
    """One spoken turn answered in full; its response.done."""
    since = len(rt.events)
    await rt.say("ocean")
    committed = await rt.wait_for("input_audio_buffer.committed", since)
    await rt.wait_for("conversation.item.input_audio_transcription.completed", since, item_id=committed["item_id"])
    return await rt.wait_for("response.done", since)


async def barge_in(rt: Recorder) -> tuple[dict[str, Any], int]:
    """Speak over a reply once its audio flows: the reply is cancelled with turn_detected before the
    new speech is committed. Returns the cut response's done event and the audio ms received of it."""
    since = len(rt.events)
    first_audio = await rt.wait_for("response.output_audio.delta", since)
    response_id = first_audio["response_id"]
    await asyncio.sleep(1.0)  # about a second into the reply
    await rt.say("mountains", trailing_silence_ms=900)
    cut = await rt.wait_for("response.done", since, response__id=response_id)
    assert cut["response"]["status"] == "cancelled"
    assert cut["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    started = await rt.wait_for("input_audio_buffer.speech_started", since)
    committed = await rt.wait_for("input_audio_buffer.committed", since)
    assert rt.index(started) < rt.index(cut) < rt.index(committed)
    received = sum(len(e["delta"]) * 3 // 4 for e in rt.of("response.output_audio.delta", since)
                   if e["response_id"] == response_id)  # fmt: skip
    return cut, received // 48  # bytes of 24 kHz PCM16 -> ms


async def test_a_scripted_session_through_the_official_sdk(start_server: StartServer) -> None:
    server = await start_server(mock_llm_sentences=3, mock_llm_tool_script=TOOL_SCRIPT, tools="")
    async with realtime(server.http_url) as rt:
        created = await rt.wait_for("session.created")
        assert created["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
        await rt.connection.session.update(session={
            "type": "realtime", "instructions": "You are a helpful shop assistant.", "tools": [ORDER_TOOL],
            "tool_choice": "auto",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}},
        })  # fmt: skip
        updated = await rt.wait_for("session.updated")
        assert updated["session"]["tools"][0]["name"] == "get_order_status"
        assert updated["session"]["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 500

        for _ in range(4):  # spoken turns answered in full
            done = await spoken_turn(rt)
            assert done["response"]["status"] == "completed" and done["response"]["usage"]["output_tokens"] > 0
        for index in range(3):  # 3 more turns, each cut by a barge-in whose words are answered in turn
            since = len(rt.events)
            await rt.say("ocean")
            cut, received_ms = await barge_in(rt)
            if index == 0:  # the client played what it received: truncate to it
                await truncate(rt, server.session(rt_session(rt)).history, cut, max(1, received_ms - 200))
            answer = await rt.wait_for("response.created", rt.index(cut) + 1)
            await rt.wait_for("response.done", since, response__id=answer["response"]["id"])
        assert len(rt.of("input_audio_buffer.committed")) == 10
        await text_and_tool_turns(rt)
        await cancelled_response(rt)
        await manual_commit(rt)
        check_invariants(rt.events)
        assert len(rt.of("response.created")) == len(rt.of("response.done"))


async def truncate(rt: Recorder, history: History, cut: dict[str, Any], heard_ms: int) -> None:
    """The client says how much it played: history keeps the words heard in that audio."""
    since, item_id = len(rt.events), cut["response"]["output"][0]["id"]
    await rt.connection.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=heard_ms)
    await rt.wait_for("conversation.item.truncated", since, item_id=item_id, audio_end_ms=heard_ms)
    item = history.get(item_id)
    assert isinstance(item, AssistantMessage) and item.audio_ms == heard_ms
    assert item.heard_text and item.text.startswith(item.heard_text) and item.heard_text != item.text
    await rt.connection.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=10**6)
    error = await rt.wait_for("error", since)
    assert error["error"]["param"] == "audio_end_ms" and "already shorter than" in error["error"]["message"]
    rt.events.remove(error)  # asked for: not one of the unexpected errors the invariants look for


def rt_session(rt: Recorder) -> str:
    return str(rt.of("session.created")[0]["session"]["id"])


async def text_and_tool_turns(rt: Recorder) -> None:
    since = len(rt.events)
    await rt.connection.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Where is my order?"}]}
    )
    await rt.connection.response.create(response={"output_modalities": ["text"]})
    call = await rt.wait_for("response.function_call_arguments.done", since)
    assert call["name"] == "get_order_status" and json.loads(call["arguments"]) == {"order_id": "42"}
    done = await rt.wait_for("response.done", since)
    assert [o["type"] for o in done["response"]["output"]] == ["function_call"]
    since = len(rt.events)
    await rt.connection.conversation.item.create(
        item={"type": "function_call_output", "call_id": call["call_id"], "output": "shipped on Monday"}
    )
    await rt.wait_for("conversation.item.done", since, item__type="function_call_output")
    await rt.connection.response.create(response={"output_modalities": ["text"]})
    answer = await rt.wait_for("response.output_text.done", since)
    assert answer["text"].startswith('The tool said: "shipped on Monday".')
    await rt.wait_for("response.done", since)


async def cancelled_response(rt: Recorder) -> None:
    since = len(rt.events)
    await rt.connection.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Tell me a long story."}]}
    )
    await rt.connection.response.create()
    created = await rt.wait_for("response.created", since)
    await rt.connection.response.cancel()
    done = await rt.wait_for("response.done", since, response__id=created["response"]["id"])
    assert done["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}


async def manual_commit(rt: Recorder) -> None:
    since = len(rt.events)
    await rt.connection.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
    updated = await rt.wait_for("session.updated", since)
    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    await rt.connection.input_audio_buffer.append(audio=b64(load_speech("rivers")))
    await rt.connection.input_audio_buffer.commit()
    committed = await rt.wait_for("input_audio_buffer.committed", since)
    completed = await rt.wait_for("conversation.item.input_audio_transcription.completed", since)
    assert completed["item_id"] == committed["item_id"] and completed["transcript"]
    assert not rt.of("response.created", since), "with turn_detection null, the client starts responses"
    await rt.connection.response.create()
    done = await rt.wait_for("response.done", since)
    assert done["response"]["status"] == "completed"
    assert not rt.of("input_audio_buffer.speech_started", since), "no server VAD once turn detection is off"


async def test_items_are_the_same_whichever_protocol_made_them(start_server: StartServer) -> None:
    server = await start_server(mock_llm_tool_script=TOOL_SCRIPT, tools="")
    async with realtime(server.http_url) as rt:
        await rt.wait_for("session.created")
        await rt.connection.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
        )
        added = await rt.wait_for("conversation.item.done")
        await rt.connection.conversation.item.retrieve(item_id=added["item"]["id"])
        retrieved = await rt.wait_for("conversation.item.retrieved")
        assert retrieved["item"]["content"] == [{"type": "input_text", "text": "hello"}]
        history = server.session(rt_session(rt)).history
        assert [item.id for item in history.items] == [added["item"]["id"]]
        await rt.connection.conversation.item.delete(item_id=added["item"]["id"])
        await rt.wait_for("conversation.item.deleted", item_id=added["item"]["id"])
        assert history.items == ()
        check_invariants(rt.events)
