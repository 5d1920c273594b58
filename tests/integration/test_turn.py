"""A full spoken turn through a real WebSocket to a real server on mock providers."""

from __future__ import annotations

from engine.metrics import METRIC_KEYS
from tests.client import Client
from tests.conftest import StartServer
from tests.history_rows import history_rows


async def test_spoken_turn_message_sequence(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="hello there tell me about the ocean", mock_llm_sentences=3)
    client = await Client.connect(server.url)
    await client.say("ocean")
    done = await client.wait_for("metrics")
    await client.wait_for("status", state="listening", since=client.events.index(done))

    kinds = [e["type"] for e in client.events]
    turn_id = client.of_type("final_transcript")[0]["turn_id"]
    assert kinds[:4] == ["session", "history", "status", "server_status"]
    assert client.of_type("history")[0]["items"] == [] and client.of_type("server_status")[0]["state"] == "ready"
    assert client.of_type("partial_transcript"), "partials arrive while the user speaks"
    order = ["partial_transcript", "final_transcript", "llm_status", "tts_start", "tts_end", "metrics"]
    positions = [kinds.index(kind) for kind in order]
    assert positions == sorted(positions), kinds
    states = [e["state"] for e in client.of_type("status")]
    assert states == ["listening", "thinking", "speaking", "listening"]
    assert all(e["session_id"] == client.session_id for e in client.events)
    assert {e["turn_id"] for e in client.events if "turn_id" in e} == {turn_id}

    final = client.of_type("final_transcript")[0]
    assert final["content"] == "hello there tell me about the ocean"
    responses = client.of_type("llm_response")
    assert responses[-1]["is_complete"] is True
    assert "".join(r["delta"] for r in responses) == responses[-1]["content"]
    assert responses[-1]["content"].startswith('You said: "hello there tell me about the ocean".')

    starts = client.of_type("tts_start")
    assert [s["sentence_index"] for s in starts] == list(range(len(starts))) and len(starts) == 3
    assert " ".join(s["text"] for s in starts) == responses[-1]["content"]
    assert all(s["sample_rate"] == 24000 and s["format"] == "pcm16" for s in starts)

    frames = [f for f in client.frames if f.turn_id == turn_id]
    assert [f.sequence for f in frames] == list(range(len(frames)))
    assert all(0 < len(f.pcm) <= 4800 and len(f.pcm) % 2 == 0 for f in frames)  # <= 100 ms at 24 kHz
    end = client.of_type("tts_end")[0]
    assert abs(client.audio_ms(turn_id) - end["audio_ms"]) < 1

    metrics = client.of_type("metrics")[0]
    values = [metrics[key] for key in METRIC_KEYS]
    assert metrics["interrupted"] is False and None not in values and min(values) >= 0, metrics
    stages = [metrics[key] for key in METRIC_KEYS if key != "turn_taken_ms"]  # a reply may start before it
    assert stages == sorted(stages) and stages[0] <= metrics["turn_taken_ms"] <= stages[-1], "in pipeline order"

    history = history_rows(server.session(client.session_id))
    assert history == [
        {"role": "user", "content": final["content"], "turn_id": turn_id, "interrupted": False},
        {"role": "assistant", "content": responses[-1]["content"], "turn_id": turn_id, "interrupted": False},
    ]
    await client.close()


async def test_audio_is_paced_at_real_time_with_bounded_lead(start_server: StartServer) -> None:
    server = await start_server(playback_lead_ms=200, audio_out_frame_ms=40)
    client = await Client.connect(server.url)
    await client.send("text_input", text="pace yourself")
    await client.wait_for("tts_end")
    frames = client.frames
    first = frames[0].at
    sent_ms = 0.0
    for frame in frames:
        sent_ms += len(frame.pcm) / 2 / 24
        # never more than the lead (plus one frame and scheduling slack) ahead of real time
        assert sent_ms - (frame.at - first) * 1000 <= 200 + 40 + 30, sent_ms
    total_s = frames[-1].at - first
    assert total_s * 1000 >= sent_ms - 200 - 40 - 30, "audio is not sent faster than real time"
    await client.close()


async def test_history_is_remembered_across_turns(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="tell me about the ocean|what about the mountains")
    client = await Client.connect(server.url)
    await client.say("ocean")
    first = await client.wait_for("metrics")
    mark = len(client.events)
    await client.say("mountains")
    await client.wait_for("metrics", since=mark)
    reply = next(e for e in client.of_type("llm_response", since=mark) if e["is_complete"])["content"]
    assert reply.startswith('You said: "what about the mountains". This is turn 2 of our conversation.')

    history = history_rows(server.session(client.session_id))
    assert [(h["role"], h["interrupted"]) for h in history] == [
        ("user", False),
        ("assistant", False),
        ("user", False),
        ("assistant", False),
    ]
    assert history[0]["turn_id"] == first["turn_id"] and history[2]["content"] == "what about the mountains"
    await client.close()
