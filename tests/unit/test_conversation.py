"""The conversation engine on scripted timelines, in virtual time.

Each test states what the user says and does, and when; it asserts the events, their
times and the history that come out. With the fast mocks (ASR final 10 ms, LLM first
token 20 ms) and a 600 ms end-of-turn silence, a turn spoken until t ends at t + 0.6 s.
"""

from __future__ import annotations

import pytest

from engine import events as ev
from engine.history import AssistantMessage, UserMessage
from tests.scenario import Scenario

pytestmark = pytest.mark.looptime
END_SILENCE_S = 0.6
ASR_FINAL_S = 0.01


async def test_a_spoken_turn_from_silence_to_answer() -> None:
    log = await Scenario(vad_end_silence_ms=600, turn_speculate=False).user_says(0.2, 1.0, "first words").run(until=4)
    at, final = log.first(ev.Transcript, final=True)
    assert (final.text, final.turn_id) == ("first words", 1)
    assert at == pytest.approx(1.0 + END_SILENCE_S + ASR_FINAL_S, abs=0.03)
    _, metrics = log.first(ev.TurnMetrics)
    assert metrics.values["final_transcript_ms"] == pytest.approx((END_SILENCE_S + ASR_FINAL_S) * 1000, abs=30)
    assert metrics.interrupted is False
    assert log.states() == ["listening", "thinking", "speaking", "listening"]
    user, assistant = log.session.history.items
    assert isinstance(user, UserMessage) and (user.text, user.source, user.turn_id) == ("first words", "speech", 1)
    assert isinstance(assistant, AssistantMessage) and assistant.status == "completed"
    assert assistant.text.startswith('You said: "first words".') and assistant.heard_text == assistant.text


async def test_barge_in_fires_at_the_configured_amount_of_speech() -> None:
    log = await (
        Scenario(barge_in_min_ms=200, mock_llm_sentences=6)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.5, 3.1, "second words")
        .run(until=6)
    )
    speaking_at, _ = log.first(ev.StateChanged, state="speaking")
    assert speaking_at < 2.5, "the bot speaks when the user cuts in"
    stop_at, stop = log.first(ev.SpeechStop)
    assert (stop.reason, stop.turn_id) == ("barge_in", 1)
    assert stop_at - 2.5 == pytest.approx(0.2, abs=0.021)  # 200 ms of voiced speech, one frame of slack
    assert stop.after_speech_ms == pytest.approx((stop_at - 2.5) * 1000, abs=21)  # the barge-in metric
    _, text = log.first(ev.LlmText, turn_id=2, complete=True)
    assert text.content.startswith('You said: "second words". This is turn 2')
    assert "I see you cut me off before." in text.content, "the LLM is told it was interrupted"
    user1, assistant1, user2 = log.session.history.items[:3]
    assert isinstance(assistant1, AssistantMessage) and assistant1.status == "interrupted"
    assert assistant1.heard_text and assistant1.text.startswith(assistant1.heard_text)
    assert len(assistant1.heard_text) < len(assistant1.text)
    assert [(i.turn_id, type(i).__name__) for i in (user1, user2)] == [(1, "UserMessage"), (2, "UserMessage")]


async def test_speech_under_the_barge_in_bar_is_ignored_while_the_bot_speaks() -> None:
    log = await (
        Scenario(barge_in_min_ms=300, mock_llm_sentences=6)
        .user_says(0.0, 0.6, "first words")
        .user_says(1.6, 1.8, "uh-huh")  # the reply is speaking by then, and still is when it ends
        .run(until=12)
    )
    assert log.first(ev.StateChanged, state="speaking")[0] < 1.6 < 1.8 + END_SILENCE_S < log.first(ev.TurnMetrics)[0]
    assert log.of(ev.SpeechStop) == []
    assert [type(i).__name__ for i in log.session.history.items] == ["UserMessage", "AssistantMessage"]
    assert log.session.history.items[-1].status == "completed"  # type: ignore[union-attr]


async def test_speech_begun_before_the_reply_started_is_never_dropped() -> None:
    log = await (
        Scenario(barge_in_min_ms=300, mock_asr_final_delay_ms=300, turn_speculate=False)
        .user_says(0.0, 0.6, "first words")
        .user_says(1.22, 1.32, "second words")  # turn 1 ended at 1.2 s; its final is 300 ms away
        .run(until=5)
    )
    _, stop = log.first(ev.SpeechStop, turn_id=1)
    assert stop.reason == "barge_in"
    _, text = log.first(ev.LlmText, turn_id=2, complete=True)
    assert 'You said: "second words". This is turn 2' in text.content
    users = [i.text for i in log.session.history.items if isinstance(i, UserMessage)]
    assert users == ["first words", "second words"]


async def test_typed_text_cuts_the_reply_and_starts_a_turn() -> None:
    log = await Scenario(mock_llm_sentences=6).user_types(0.0, "hello").user_types(1.0, "never mind").run(until=3)
    assert log.first(ev.StateChanged, state="speaking")[0] < 1.0
    at, stop = log.first(ev.SpeechStop)
    assert (stop.turn_id, stop.reason) == (1, "text_input") and at == pytest.approx(1.0)
    _, text = log.first(ev.LlmText, turn_id=2, complete=True)
    assert text.content.startswith('You said: "never mind". This is turn 2')
    assert [i.source for i in log.session.history.items if isinstance(i, UserMessage)] == ["text", "text"]


async def test_stop_ignores_audio_until_start_and_reset_forgets_history() -> None:
    results: dict[str, object] = {}

    async def record(name: str, command: object) -> None:
        results[name] = await command  # type: ignore[misc]

    log = await (
        Scenario()
        .user_types(0.0, "hello")
        .at(0.5, lambda c: record("stop", c.stop()))
        .user_says(1.0, 1.6, "not heard")
        .at(3.0, lambda c: record("start", c.start()))
        .user_says(3.2, 3.8, "heard words")
        .at(6.0, lambda c: record("reset", c.reset()))
        .run(until=6.5)
    )
    assert results == {"stop": 1, "start": True, "reset": None}
    assert "stopped" in log.states() and log.states()[-1] == "listening"
    finals = [e.text for e in log.of(ev.Transcript, final=True)]
    assert finals == ["hello", "heard words"], "no speech is heard while stopped"
    assert log.session.history.items == ()


async def test_text_while_stopped_is_refused_by_the_engine() -> None:
    from engine.commands import CommandRefused

    refused: list[str] = []

    async def type_text(conversation: object) -> None:
        try:
            await conversation.text_input("hello?")  # type: ignore[attr-defined]
        except CommandRefused as error:
            refused.append(error.code)

    await Scenario().at(0.0, lambda c: c.stop()).at(0.1, type_text).run(until=0.5)
    assert refused == ["not_listening"]


async def test_an_asr_engine_gets_audio_at_the_rate_it_declares() -> None:
    log = await Scenario(asr_sample_rate=24000).user_says(0.4, 1.4, "").run(until=3)
    # with no text scripted, the mock ASR says how much audio it was given, measured at its own rate:
    # 300 ms pre-roll + 1000 ms of speech + 600 ms of silence window
    # the draft at the short silence is the final: 300 ms pre-roll + 1 s of speech + 200 ms of quiet
    assert log.first(ev.Transcript, final=True)[1].text == "I spoke for 1.5 seconds"


async def test_two_turns_arriving_together_leave_exactly_one_reply_running() -> None:
    import asyncio

    running: set[str] = set()

    async def two_at_once(conversation: object) -> None:
        await asyncio.gather(conversation.text_input("one"), conversation.text_input("two"))  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)
        running.update(t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("reply-"))

    log = await Scenario(mock_llm_sentences=6).user_types(0.0, "zero").at(1.0, two_at_once).run(until=2)
    assert running and {name.split("-")[1] for name in running} == {"3"}, running
    stops = [(e.turn_id, e.reason) for e in log.of(ev.SpeechStop)]
    assert stops == [(1, "text_input"), (2, "text_input"), (3, "disconnect")], "the end of the scenario closes it"


async def test_a_slow_transcript_of_older_speech_never_cuts_the_reply_to_a_newer_typed_turn() -> None:
    log = await (
        Scenario(vad_end_silence_ms=600, mock_asr_final_delay_ms=800)
        .user_says(0.2, 1.0, "older spoken words")  # ends at 1.6 s; its transcript comes at 2.4 s
        .user_types(1.8, "newer typed words")
        .run(until=5)
    )
    finals = [(e.turn_id, e.source) for e in log.of(ev.Transcript, final=True)]
    assert finals == [(1, "speech"), (2, "text")], "turn ids never go backwards"
    assert log.first(ev.Transcript, source="text")[0] == pytest.approx(2.4, abs=0.05), "the typed turn waited"
    assert {e.turn_id for e in log.of(ev.LlmText)} == {2} and log.of(ev.SpeechStop) == [], "one reply, never cut"
    user_1, user_2, answer = log.session.history.items
    assert isinstance(user_1, UserMessage) and (user_1.turn_id, user_1.text) == (1, "older spoken words")
    assert isinstance(user_2, UserMessage) and user_2.turn_id == 2
    assert isinstance(answer, AssistantMessage) and answer.turn_id == 2
