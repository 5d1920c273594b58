"""The end of the user's turn, on scripted timelines in virtual time: a finished turn is answered
after the short silence, an unfinished one waits for the longer silence, and the reply started
on the words so far is adopted when the turn ends there and leaves no trace when the user goes on."""

from __future__ import annotations

from typing import Any

import pytest

from engine import events as ev
from engine.history import AssistantMessage, UserMessage
from engine.options import ReplyRequest
from engine.turns.end_of_turn import EndOfTurn, EndOfTurnOptions
from engine.turns.smart_turn import SmartTurn
from server.turn_taking import EndOfTurnSettings
from tests.recording import RecordingSink
from tests.scenario import EventLog, Scenario

pytestmark = pytest.mark.looptime
FRAME_S = 0.02
SHORT_S, MAX_S, MODEL_S = 0.2, 1.5, 0.03  # TURN_END_SHORT_SILENCE_MS, TURN_END_MAX_SILENCE_MS, inference
UNSURE_S = 0.8  # TURN_END_UNSURE_SILENCE_MS
GATE_LAG_S = 0.12  # webrtcvad's hangover and Silero's smoothing: 83-131 ms measured
ZERO_LATENCY: dict[str, Any] = {"mock_asr_final_delay_ms": 0, "mock_llm_first_token_ms": 0, "mock_llm_token_ms": 0,
                "mock_tts_first_byte_ms": 0}  # fmt: skip


def semantic(finished: dict[str, float | None], **settings: Any) -> Scenario:
    return Scenario(finished=finished, model_delay_s=MODEL_S, turn_end_model="smart_turn", **{**ZERO_LATENCY,
                    **settings})  # fmt: skip


def first_audio_at(log: EventLog, turn_id: int) -> float:
    return next(at for at, f in log.all(ev.AudioOut) if f.turn_id == turn_id)


async def test_a_finished_turn_is_answered_after_the_short_silence() -> None:
    scenario = semantic({"what time is it": 0.95}).user_says(0.2, 1.0, "what time is it")
    log = await scenario.run(until=4)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    assert stopped_at - 1.0 == pytest.approx(SHORT_S + MODEL_S, abs=2 * FRAME_S), "ended at the short silence"
    assert first_audio_at(log, 1) - 1.0 <= SHORT_S + MODEL_S + 2 * FRAME_S, "the speculative reply was ready"
    assert scenario.turn_end is not None and [text for _, text in scenario.turn_end.calls] == ["what time is it"]
    speculations = scenario.conversation.speculations
    assert (speculations.started, speculations.adopted, speculations.discarded) == (1, 1, 0)


async def test_the_metrics_tell_when_the_turn_was_taken_apart_from_the_speculative_transcript() -> None:
    """The reply started on the draft at the short silence is heard from the decision on: the
    server's own cost is first audio minus the decision, not minus the draft."""
    scenario = semantic({"what time is it": 0.9}).user_says(0.2, 1.0, "what time is it")
    log = await scenario.run(until=4)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    metrics = log.first(ev.TurnMetrics)[1].values
    assert metrics["final_transcript_ms"] == pytest.approx(SHORT_S * 1000, abs=2 * FRAME_S * 1000), "the draft"
    assert metrics["turn_taken_ms"] == pytest.approx((stopped_at - 1.0) * 1000, abs=FRAME_S * 1000)
    assert metrics["turn_taken_ms"] == pytest.approx(UNSURE_S * 1000, abs=2 * FRAME_S * 1000), "unsure: 800 ms"
    taken, first_audio = metrics["turn_taken_ms"], metrics["first_audio_sent_ms"]
    assert taken is not None and first_audio is not None and 0 <= first_audio - taken <= FRAME_S * 1000


async def test_without_speculation_the_turn_is_taken_with_its_final_transcript() -> None:
    log = (
        await Scenario(turn_end_model="none", turn_speculate=False, **ZERO_LATENCY)
        .user_says(0.2, 1.0, "hi")
        .run(until=4)
    )
    metrics = log.first(ev.TurnMetrics)[1].values
    assert metrics["turn_taken_ms"] == metrics["final_transcript_ms"]


@pytest.mark.parametrize(("background_noise", "counted_from_s"), [(False, 1.0), (True, 1.0 + GATE_LAG_S)])
async def test_the_short_silence_counts_from_the_voices_end_not_the_gates_hangover(
    background_noise: bool, counted_from_s: float
) -> None:
    """The gate hears speech 120 ms after the voice stops; in digital silence the level shows
    where it stopped, and in noise near the voice's level the gate's count stands."""
    scenario = semantic({"what time is it": 0.95}, gate_lag_s=GATE_LAG_S, background_noise=background_noise)
    log = await scenario.user_says(0.2, 1.0, "what time is it").run(until=4)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    assert stopped_at - counted_from_s == pytest.approx(SHORT_S + MODEL_S, abs=2 * FRAME_S)
    metrics = log.first(ev.TurnMetrics)[1].values
    first_audio_ms = (first_audio_at(log, 1) - counted_from_s) * 1000  # a frame is pushed as it starts: within one
    assert metrics["first_audio_sent_ms"] == pytest.approx(first_audio_ms, abs=1.5 * FRAME_S * 1000), "the same end"


@pytest.mark.parametrize(("words", "ends_at_s"), [("What time is it?", SHORT_S + MODEL_S), ("What time is it", MAX_S),
                                                 ("We are planning a trip to...", MAX_S)])  # fmt: skip
async def test_a_punctuating_asrs_draft_without_a_full_stop_is_unfinished(words: str, ends_at_s: float) -> None:
    """Whisper ends a finished sentence with a full stop and one cut short with "..." or nothing."""
    scenario = semantic({words: 0.95}, punctuating_asr=True).user_says(0.2, 1.0, words)
    stopped_at, _ = (await scenario.run(until=4)).first(ev.UserSpeechStopped)
    assert stopped_at - 1.0 == pytest.approx(ends_at_s, abs=2 * FRAME_S)


@pytest.mark.parametrize(
    ("text", "punctuated", "trails_off"),
    [("Can you tell me how to get", True, True), ("Can you tell me how to get", False, False),
     ("My number is 5.5", True, True), ("It costs 5.", True, False), ("Is it 3.5?", True, False),
     ("Hello!", True, False), ('He said "go."', True, False), ("Send it to-", True, True),
     ("a trip to Japan\u2026", True, True), ("and.", False, True), ("", True, False),
     ("Book me a taxi at 6?", True, False), ("Book me a taxi at", False, True)],
)  # fmt: skip
def test_where_the_words_stop_says_whether_a_sentence_goes_on(text: str, punctuated: bool, trails_off: bool) -> None:
    assert EndOfTurn(EndOfTurnOptions(), model=None).trails_off(text, punctuated) is trails_off


@pytest.mark.parametrize(("words", "probability"), [("let me think", 0.1), ("I want to book a table for", 0.9)])
async def test_an_unfinished_turn_waits_for_the_longer_silence(words: str, probability: float) -> None:
    """Unfinished by the model's ear, or by its last word whatever the model says."""
    log = await semantic({words: probability}).user_says(0.2, 1.0, words).run(until=5)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    assert stopped_at - 1.0 == pytest.approx(MAX_S, abs=2 * FRAME_S)
    assert [at for at, e in log.all(ev.ReplyStarted) if at < stopped_at] == [], "nothing told before the end"
    assert first_audio_at(log, 1) - stopped_at <= 2 * FRAME_S, "the reply waited, ready, for the silence"


@pytest.mark.parametrize(("words", "ends_at_s"), [("what time is it", UNSURE_S), ("I want to book a table for", MAX_S)])
async def test_a_pause_the_model_is_too_busy_to_hear_is_decided_by_its_words(words: str, ends_at_s: float) -> None:
    """Over the model's CPU budget a pause is not queued behind it: finished words end the turn
    after the unsure silence, words that trail off after the longest."""
    scenario = semantic({words: None}).user_says(0.2, 1.0, words)
    log = await scenario.run(until=5)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    assert stopped_at - 1.0 == pytest.approx(ends_at_s, abs=2 * FRAME_S)
    assert first_audio_at(log, 1) - stopped_at <= 2 * FRAME_S, "the speculative reply waited, ready"


async def test_a_turn_finished_but_not_surely_is_answered_after_the_unsure_silence() -> None:
    scenario = semantic({"could you remind me": 0.8}).user_says(0.2, 1.0, "could you remind me")
    log = await scenario.run(until=4)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    assert stopped_at - 1.0 == pytest.approx(UNSURE_S, abs=2 * FRAME_S)
    assert first_audio_at(log, 1) - stopped_at <= 2 * FRAME_S, "the speculative reply waited, ready"
    speculations = scenario.conversation.speculations
    assert (speculations.started, speculations.adopted, speculations.discarded) == (1, 1, 0)


@pytest.mark.parametrize(("probability", "sure_threshold", "turns"), [(0.8, 0.95, 1), (0.97, 0.95, 2), (0.97, 0.99, 1)])
async def test_a_pause_after_words_that_sound_finished_is_answered_only_when_the_model_is_sure(
    probability: float, sure_threshold: float, turns: int
) -> None:
    """ "Could you remind me | to call my mother": a 600 ms pause after a complete-sounding question
    ends the turn only when the model's probability reaches TURN_END_SURE_THRESHOLD."""
    scenario = semantic({"could you remind me": probability}, turn_end_sure_threshold=sure_threshold)
    log = await scenario.user_says(0.2, 1.0, "could you remind me").user_says(1.6, 2.6, "to call my mother").run(7)
    assert len(log.of(ev.UserSpeechStopped)) == turns
    assert len(log.of(ev.ReplyStarted)) == turns, "each turn answered once"


@pytest.mark.parametrize("settings", [{"turn_end_sure_threshold": 0.6}, {"turn_end_unsure_silence_ms": 100},
                                      {"turn_end_unsure_silence_ms": 2000}])  # fmt: skip
def test_the_end_of_turn_levels_must_be_in_order(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="TURN_END_"):
        EndOfTurnSettings(_env_file=None, **settings)


async def test_the_models_cpu_budget_comes_from_the_servers_options() -> None:
    """The server builds its engine options once, so every conversation draws on one budget."""
    conversation = Scenario(turn_end_model="smart_turn", turn_end_model_cpu_share=0.25).build(RecordingSink())[1]
    model = conversation._listener._end.end._model
    assert isinstance(model, SmartTurn) and model._budget is conversation._options.budgets.turn_end_model
    assert model._budget.rate == 0.25


async def test_the_user_going_on_discards_the_speculative_reply_without_a_trace() -> None:
    scenario = semantic({"I want to book a table": 0.2}).user_says(0.2, 1.0, "I want to book a table")
    log = await scenario.user_says(1.6, 2.4, "for four people").run(until=6)  # 600 ms mid-sentence pause
    (stopped_at, _), (started_at, _) = log.first(ev.UserSpeechStopped), log.first(ev.ReplyStarted)
    assert stopped_at > 2.4 and started_at >= stopped_at, "one turn, answered after it really ended"
    assert next(at for at, _ in log.all(ev.AudioOut)) > 2.4 and len(log.of(ev.ReplyStarted)) == 1
    assert len(log.of(ev.LlmText, complete=True)) == 1, "the discarded reply's text never reached the client"
    speculations = scenario.conversation.speculations
    assert (speculations.started, speculations.discarded, speculations.adopted) == (2, 1, 1)
    kinds = [type(item) for item in log.session.history.items]
    assert kinds == [UserMessage, AssistantMessage], "history holds one turn and one reply"


async def test_without_a_model_the_silence_ends_turns_and_speculation_still_saves_the_wait() -> None:
    log = await (
        Scenario(turn_end_model="none", vad_end_silence_ms=600, **{**ZERO_LATENCY, "mock_asr_final_delay_ms": 300})
        .user_says(0.2, 1.0, "first words")
        .run(until=4)
    )
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    assert stopped_at - 1.0 == pytest.approx(0.6, abs=2 * FRAME_S)
    final_at, _ = log.first(ev.Transcript, final=True)
    assert final_at - stopped_at <= FRAME_S, "the draft made during the silence is the final: no 300 ms decode"


async def test_speculation_off_waits_for_the_final() -> None:
    log = await (
        Scenario(turn_end_model="none", turn_speculate=False, **{**ZERO_LATENCY, "mock_asr_final_delay_ms": 300})
        .user_says(0.2, 1.0, "first words")
        .run(until=4)
    )
    (stopped_at, _), (final_at, _) = log.first(ev.UserSpeechStopped), log.first(ev.Transcript, final=True)
    assert final_at - stopped_at == pytest.approx(0.3, abs=FRAME_S)


async def test_a_reply_playing_is_never_speculated_over() -> None:
    """Speech during a reply is the barge-in policy's business: no speculative reply starts."""
    scenario = semantic({}, mock_llm_sentences=8).user_says(0.0, 0.6, "first words").user_says(2.0, 2.1, "cough")
    await scenario.run(until=6)
    assert scenario.conversation.speculations.started == 1, "only the first turn's"


def test_the_words_so_far_can_tell_an_unfinished_turn() -> None:
    end = EndOfTurn(EndOfTurnOptions(), model=None)
    assert end.trails_off("I want to book a table for") and end.trails_off("eggs, milk and... um")
    assert not end.trails_off("Where are you from?") and not end.trails_off("") and not end.trails_off("Thanks.")
    assert not EndOfTurn(EndOfTurnOptions(continuation_words=""), None).trails_off("a table for")


async def test_a_speculative_reply_that_fails_unheard_leaves_no_trace_when_the_user_goes_on() -> None:
    scenario = semantic({"tell me": 0.2}, mock_llm_fault="raise", mock_llm_fault_on="1")
    log = await scenario.user_says(0.2, 1.0, "tell me").user_says(1.6, 2.4, "about whales").run(until=6)
    assert log.of(ev.ErrorEvent) == [], "the failure of a reply nobody heard is not told"
    kinds = [type(item) for item in log.session.history.items]
    assert kinds == [UserMessage, AssistantMessage] and log.session.history.items[-1].status == "completed"  # type: ignore[union-attr]


async def test_a_text_only_speculative_reply_waits_for_the_turn_to_end() -> None:
    """A reply with nothing to play would otherwise complete, and record itself, while held."""
    scenario = semantic({"hello": 0.2})
    scenario.at(0.0, lambda conversation: setattr(conversation, "reply_defaults",
                                                  ReplyRequest(speak=False)))  # fmt: skip
    log = await scenario.user_says(0.2, 1.0, "hello").run(until=4)
    stopped_at, _ = log.first(ev.UserSpeechStopped)
    (ended_at, ended) = log.first(ev.ReplyEnded)
    assert ended_at >= stopped_at and ended.outcome == "completed"
    assert [type(item) for item in log.session.history.items] == [UserMessage, AssistantMessage]
