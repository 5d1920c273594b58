"""A whole spoken conversation on the offline stack, through the real WebSocket: speech
in, the right transcript, a reply from the local LLM, local TTS audio out; then a cut-in
while the bot speaks, handled as with any provider."""

from __future__ import annotations

import asyncio

from config import Settings
from tests.client import Client, silence
from tests.conftest import StartServer
from tests.history_rows import history_rows
from tests.local.conftest import LOCAL, synthesize_async
from tests.wer import normalize, word_error_rate

FIRST = "Please tell me a long story about the ocean and the ships that sail on it."
CUT_IN = "Wait, tell me about the mountains instead."


async def test_spoken_turn_then_cut_in_on_the_local_stack(start_server: StartServer, warm_engines: Settings) -> None:
    server = await start_server(**LOCAL, local_llm_max_tokens=120)
    client = await Client.connect(server.url, ack_playback=True)
    first_speech = await synthesize_async(FIRST, 24000)
    cut_in_speech = await synthesize_async(CUT_IN, 24000)

    await client.send_audio(silence(300) + first_speech + silence(900), speed=1.0)
    final = await client.wait_for("final_transcript", timeout=30)
    turn1 = final["turn_id"]
    assert word_error_rate([(FIRST, final["content"])]) <= 0.15, final["content"]
    assert client.of_type("partial_transcript"), "partials while the user speaks"

    await client.wait_for("tts_start", turn_id=turn1, timeout=30)
    async with asyncio.timeout(30):
        while client.audio_ms(turn1) < 500:
            await asyncio.sleep(0.05)
    assert any(e["turn_id"] == turn1 and e["content"].strip() for e in client.of_type("llm_response"))

    mark = len(client.events)
    await client.send_audio(cut_in_speech + silence(900), speed=1.0)
    stop = await client.wait_for("tts_stop", since=mark, turn_id=turn1, timeout=10)
    assert stop["reason"] == "barge_in"
    final2 = await client.wait_for("final_transcript", since=mark, timeout=30)
    assert final2["turn_id"] > turn1
    assert word_error_rate([(CUT_IN, final2["content"])]) <= 0.15, final2["content"]
    await client.wait_for("tts_start", since=mark, turn_id=final2["turn_id"], timeout=30)
    await client.wait_for("metrics", since=mark, turn_id=final2["turn_id"], timeout=60)
    assert client.frames_after_stop == 0

    history = history_rows(server.session(client.session_id))
    assert [(h["role"], h["turn_id"]) for h in history[:3]] == [
        ("user", turn1),
        ("assistant", turn1),
        ("user", final2["turn_id"]),
    ]
    assert history[1]["interrupted"] is True
    generated = [e["content"] for e in client.of_type("llm_response") if e["turn_id"] == turn1][-1]
    spoken = normalize(history[1]["content"])
    assert spoken and spoken == normalize(generated)[: len(spoken)], "history holds what was heard of the reply"
    await client.close()
