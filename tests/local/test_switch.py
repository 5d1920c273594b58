"""Swapping providers is a change of settings: the same spoken turn through the WebSocket, with
every provider combination that runs offline (mock, local engines, the fake cloud, llama.cpp's
OpenAI-compatible server), gives the same protocol messages in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.client import Client, silence
from tests.conftest import Config, StartServer
from tests.fakes.cloud import FakeCloud
from tests.local.conftest import synthesize_async
from tests.local.llama_server import llama_server

__all__ = ["llama_server"]
SPOKEN = "Tell me about the ocean."
COMBINATIONS = [
    ("mock", "mock", "mock"),
    ("local", "local", "local"),
    ("openai", "openai", "openai"),
    ("openai", "azure_openai", "minimax"),
    ("local", "mock", "minimax"),
    ("mock", "local", "openai"),
    ("pocketsphinx", "llama.cpp server", "espeak"),
]
SHORT = {"mock_llm_sentences": 1, "local_llm_max_tokens": 24, "openai_llm_max_tokens": 24,
         "mock_asr_script": "tell me about the ocean"}  # fmt: skip
ORDER = ["final_transcript", "llm_status", "llm_response", "tts_start", "tts_end", "metrics"]


def turn_shape(events: list[dict[str, Any]]) -> tuple[list[str], list[str], set[str]]:
    kinds = [e["type"] for e in events]
    firsts = sorted(ORDER, key=kinds.index)
    states = [e["state"] for e in events if e["type"] == "status"]
    return firsts, states, set(kinds) - {"partial_transcript"}


@pytest.mark.parametrize("asr,llm,tts", COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
async def test_the_same_turn_gives_the_same_messages_whatever_the_providers(
    start_server: StartServer, warm_engines: Config, cloud: FakeCloud, request: pytest.FixtureRequest,
    asr: str, llm: str, tts: str,
) -> None:  # fmt: skip
    settings: dict[str, Any] = {**cloud.settings(), **SHORT, "asr_provider": asr, "llm_provider": llm,
                                "tts_provider": tts}  # fmt: skip
    if llm == "llama.cpp server":
        settings.update(llm_provider="openai", openai_base_url=request.getfixturevalue("llama_server"))
    server = await start_server(**settings)
    client = await Client.connect(server.url)
    await client.send_audio(silence(300) + await synthesize_async(SPOKEN, 24000) + silence(900), speed=2.0)
    metrics = await client.wait_for("metrics", timeout=60)
    await client.wait_for("status", since=client.events.index(metrics), state="listening")

    firsts, states, kinds = turn_shape(client.events)
    assert firsts == ORDER and states == ["listening", "thinking", "speaking", "listening"]
    assert kinds == {"session", "history", "server_status", "status", "final_transcript", "llm_status",
                     "llm_response", "tts_start", "tts_end", "metrics"}, kinds  # fmt: skip
    final = client.of_type("final_transcript")[0]["content"].lower()
    assert "ocean" in final or (asr == "pocketsphinx" and final), final
    reply = client.of_type("llm_response")[-1]
    assert reply["is_complete"] and reply["content"].strip()
    end = client.of_type("tts_end")[0]
    assert end["audio_ms"] > 300 and abs(client.audio_ms(end["turn_id"]) - end["audio_ms"]) < 1
    assert metrics["interrupted"] is False and all(metrics[k] is not None for k in ("first_audio_sent_ms",))
    await client.close()
