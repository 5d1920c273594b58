"""A provider that raises, hangs or rate-limits: an error, a clean end, and the next turn works."""

from __future__ import annotations

import pytest

from engine.history import AssistantMessage
from tests.client import Client
from tests.conftest import BROKEN_GGUF, StartServer

TIMEOUTS = {"asr_final_timeout_s": 0.3, "llm_first_token_timeout_s": 0.3, "tts_first_byte_timeout_s": 0.3}


@pytest.mark.parametrize(
    ("stage", "fault", "code"),
    [
        ("llm", "raise", "provider_failed"),
        ("llm", "hang", "provider_timeout"),
        ("llm", "rate_limit", "rate_limited"),
        ("tts", "raise", "provider_failed"),
        ("tts", "hang", "provider_timeout"),
        ("tts", "rate_limit", "rate_limited"),
    ],
)
async def test_reply_fault_ends_the_turn_and_the_next_turn_works(
    start_server: StartServer, stage: str, fault: str, code: str
) -> None:
    server = await start_server(**{f"mock_{stage}_fault": fault, f"mock_{stage}_fault_on": "1"}, **TIMEOUTS)
    client = await Client.connect(server.url)
    await client.send("text_input", text="this one fails")
    error = await client.wait_for("error")
    assert error["code"] == code and error["turn_id"] == 1 and stage in error["message"]
    if fault == "rate_limit":
        assert error["retry_after_s"] == 1.0
    ended = await client.wait_for("metrics", turn_id=1)
    assert client.of_type("tts_stop") == [], "nothing had been synthesized: nothing to cut"
    await client.wait_for("status", since=client.events.index(ended), state="listening")

    mark = len(client.events)
    await client.send("text_input", text="this one works")
    await client.wait_for("tts_end", since=mark, turn_id=2)
    metrics = await client.wait_for("metrics", since=mark, turn_id=2)
    assert metrics["interrupted"] is False
    history = server.session(client.session_id).history
    said = [(m["role"], m["content"][:14]) for m in history.llm_messages("Be brief.")[1:]]
    assert said == [("user", "this one fails"), ("user", "this one works"), ("assistant", 'You said: "thi')]
    failed = [i for i in history.items if isinstance(i, AssistantMessage) and i.status == "failed"]
    assert [i.heard_text for i in failed] == ([""] if stage == "tts" else []), "the text is kept; none was heard"
    await client.close()


@pytest.mark.parametrize(
    ("fault", "code"), [("raise", "provider_failed"), ("hang", "provider_timeout"), ("rate_limit", "rate_limited")]
)
async def test_asr_fault_reports_an_error_and_the_next_utterance_works(
    start_server: StartServer, fault: str, code: str
) -> None:
    server = await start_server(mock_asr_fault=fault, mock_asr_fault_on="1", mock_asr_script="hello|again", **TIMEOUTS)
    client = await Client.connect(server.url)
    await client.say("short", speed=8)
    error = await client.wait_for("error")
    assert error["code"] == code and "asr" in error["message"]
    await client.say("mountains", speed=8)
    final = await client.wait_for("final_transcript")
    assert final["content"] == "again"
    await client.wait_for("tts_start", turn_id=final["turn_id"])
    await client.close()


async def test_an_engine_that_failed_to_load_is_told_once_and_turns_are_refused_with_its_reason(
    start_server: StartServer,
) -> None:
    server = await start_server(expect_ready=False, llm_provider="local", local_llm_model_path=BROKEN_GGUF)
    client = await Client.connect(server.url)
    status = await client.wait_for("server_status")
    assert status["state"] == "failed"
    assert status["reason"].startswith(f"The language model could not load: the GGUF model at {BROKEN_GGUF!r}")
    await client.send("text_input", text="hello?")
    refused = await client.wait_for("error")
    assert (refused["code"], refused["message"]) == ("service_unavailable", status["reason"])
    await client.say("ocean")  # ignored: nothing could answer it
    await client.send("text_input", text="anyone?")
    await client.wait_for("error", since=client.events.index(refused) + 1)
    assert client.of_type("final_transcript") == [] and client.of_type("partial_transcript") == []
    assert server.session(client.session_id).history.items == ()
    assert len(client.of_type("server_status")) == 1
    await client.close()
