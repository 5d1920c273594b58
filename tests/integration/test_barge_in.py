"""Cutting in while the bot talks: it stops at once, answers the new words, and history
keeps only what the user heard."""

from __future__ import annotations

import asyncio
from typing import Any

from services.mock.settings import MockTTSSettings
from services.mock.tts import MockTTS
from tests.client import Client
from tests.conftest import StartServer
from tests.history_rows import history_rows

LONG_REPLY = {"mock_llm_sentences": 6, "mock_tts_ms_per_char": 25}


def expected_heard(starts: list[dict[str, Any]], played_ms: float, ms_per_char: int) -> str:
    """The words whose audio ended by `played_ms`, from the mock TTS's exact word timings."""
    tts = MockTTS(MockTTSSettings(_env_file=None, ms_per_char=ms_per_char))
    heard: list[str] = []
    for start in starts:
        _, words = tts.render(start["text"], 24000)
        for word, timing in zip(start["text"].split(), words, strict=True):
            if start["offset_ms"] + timing.end_ms <= played_ms + 0.5:
                heard.append(word)
    return " ".join(heard)


async def test_cut_in_stops_audio_and_answers_the_new_words(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="tell me about the ocean|tell me about rivers instead", **LONG_REPLY)
    client = await Client.connect(server.url, ack_playback=True)
    await client.say("ocean")
    first = await client.wait_for("final_transcript")
    turn1 = first["turn_id"]
    await client.wait_for("status", state="speaking")
    await asyncio.sleep(1.0)

    mark = len(client.events)
    speaking = asyncio.create_task(client.say("rivers", speed=1.0))
    stop = await client.wait_for("tts_stop", since=mark)
    assert stop["turn_id"] == turn1 and stop["reason"] == "barge_in"
    heard_at_stop = client.played_ms(turn1)
    await speaking

    final = await client.wait_for("final_transcript", since=mark)
    assert final["content"] == "tell me about rivers instead" and final["turn_id"] > turn1
    metrics = await client.wait_for("metrics", since=mark, turn_id=final["turn_id"])
    assert metrics["interrupted"] is False
    reply = [e for e in client.of_type("llm_response", since=mark) if e["is_complete"]][-1]["content"]
    assert reply.startswith('You said: "tell me about rivers instead". This is turn 2 of our conversation.')
    assert "I see you cut me off before." in reply, "the LLM is told it was interrupted"

    # the server stopped sending at once: nothing after tts_stop, little beyond what was played
    assert client.frames_after_stop == 0
    assert client.audio_ms(turn1) <= heard_at_stop + 200 + 40 + 60

    # history keeps only what the player acked as played, marked interrupted
    full = [e for e in client.of_type("llm_response") if e["turn_id"] == turn1][-1]["content"]
    history = history_rows(server.session(client.session_id))
    assert [(h["role"], h["turn_id"], h["interrupted"]) for h in history] == [
        ("user", turn1, False),
        ("assistant", turn1, True),
        ("user", final["turn_id"], False),
        ("assistant", final["turn_id"], False),
    ]
    heard = history[1]["content"]
    assert heard and full.startswith(heard) and len(heard) < len(full)
    last_ack = [played for turn, played in client.acks_sent if turn == turn1][-1]
    starts = [e for e in client.of_type("tts_start") if e["turn_id"] == turn1]
    assert heard == expected_heard(starts, last_ack, LONG_REPLY["mock_tts_ms_per_char"])
    await client.close()


async def test_twenty_cut_ins_in_a_row_then_a_normal_turn(start_server: StartServer) -> None:
    script = "|".join(f"cut in number {n}" for n in range(22))
    server = await start_server(mock_asr_script=script, history_max_messages=50, **LONG_REPLY)
    client = await Client.connect(server.url)
    await client.say("ocean", speed=8)
    for n in range(1, 21):
        final = await client.wait_for("final_transcript", content=f"cut in number {n - 1}")
        turn = final["turn_id"]
        await client.wait_for("status", since=client.events.index(final), state="speaking")
        mark = len(client.events)
        await client.say("rivers", speed=8)
        stop = await client.wait_for("tts_stop", since=mark)
        assert (stop["turn_id"], stop["reason"]) == (turn, "barge_in")
    last = await client.wait_for("final_transcript", content="cut in number 20")
    end = await client.wait_for("tts_end", turn_id=last["turn_id"])
    await client.wait_for("metrics", turn_id=end["turn_id"])
    assert client.frames_after_stop == 0
    history = history_rows(server.session(client.session_id))
    assert [h["interrupted"] for h in history if h["role"] == "assistant"] == [True] * 20 + [False]
    assert len([h for h in history if h["role"] == "user"]) == 21
    await client.close()


async def test_short_backchannel_does_not_cut_the_bot_off(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="tell me about the ocean|uh huh", barge_in_min_ms=600, **LONG_REPLY)
    client = await Client.connect(server.url)
    await client.send("text_input", text="talk to me")
    await client.wait_for("status", state="speaking")
    turn = client.of_type("final_transcript")[0]["turn_id"]
    await client.say("short", speed=2)  # "Stop." has less voiced speech than the 600 ms bar
    await client.wait_for("tts_end", turn_id=turn)
    await client.wait_for("metrics", turn_id=turn)
    assert not client.of_type("tts_stop")
    history = history_rows(server.session(client.session_id))
    assert [(h["role"], h["interrupted"]) for h in history] == [("user", False), ("assistant", False)]
    await client.close()
