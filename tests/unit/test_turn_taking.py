"""Turn taking while the bot speaks, on scripted timelines in virtual time: speech pauses the
reply at its first confirmed frame; a cough or a backchannel resumes it where it held, with no
audio lost or repeated; a real interruption or a stop word cuts it."""

from __future__ import annotations

import pytest

from engine import events as ev
from engine.history import AssistantMessage, UserMessage
from tests.scenario import Scenario

pytestmark = pytest.mark.looptime
START_S = 0.06  # VAD_START_MS: the run of voiced audio that confirms speech
FRAME_S = 0.02


def reply_audio(log: object, turn_id: int) -> list[ev.AudioOut]:
    return [frame for frame in log.of(ev.AudioOut) if frame.turn_id == turn_id]  # type: ignore[attr-defined]


async def test_a_cough_pauses_the_reply_at_once_and_it_resumes_where_it_held() -> None:
    log = await (
        Scenario(mock_llm_sentences=6, barge_in_resume_silence_ms=300)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.12, "cough")  # 120 ms: under the 200 ms bar
        .run(until=20)
    )
    paused_at, pause = log.first(ev.SpeechPause)
    assert paused_at - 2.0 == pytest.approx(START_S, abs=FRAME_S), "paused at the first confirmed frame"
    assert pause.after_speech_ms == pytest.approx(START_S * 1000, abs=FRAME_S * 1000), "the pause metric"
    resumed_at, resume = log.first(ev.SpeechResume)
    assert resumed_at - 2.12 == pytest.approx(0.3, abs=2 * FRAME_S), "after 300 ms of quiet, not a turn's 600"
    assert resume.played_ms == pytest.approx(pause.played_ms, abs=0.5), "nothing played while paused"
    during = [at for at, frame in log.all(ev.AudioOut) if paused_at < at < resumed_at]
    assert during == [], "nothing sent while paused"
    frames = reply_audio(log, 1)
    assert [f.sequence for f in frames] == list(range(len(frames))), "no frame lost or sent twice"
    assert log.of(ev.SpeechStop) == [] and log.of(ev.UserSpeechStarted, turn_id=2) == []
    (_, end), (_, timeline) = log.first(ev.SpeechEnd, turn_id=1), log.first(ev.LlmText, turn_id=1, complete=True)
    assert end.audio_ms == pytest.approx(sum(len(f.pcm) for f in frames) / 48, abs=1)
    reply = log.session.history.items[-1]
    assert isinstance(reply, AssistantMessage) and reply.status == "completed" and reply.heard_text == timeline.content


async def test_a_real_interruption_is_paused_first_then_cut_at_the_bar() -> None:
    log = await (
        Scenario(mock_llm_sentences=6, barge_in_min_ms=200, barge_in_wait_for_words=False)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 3.0, "tell me something else")
        .run(until=8)
    )
    paused_at, _ = log.first(ev.SpeechPause)
    stop_at, stop = log.first(ev.SpeechStop)
    assert paused_at - 2.0 == pytest.approx(START_S, abs=FRAME_S) and stop.reason == "barge_in"
    assert stop_at - 2.0 == pytest.approx(0.2, abs=FRAME_S) and log.of(ev.SpeechResume) == []
    assert [at for at, f in log.all(ev.AudioOut) if f.turn_id == 1 and at > paused_at] == []
    first = log.session.history.items[1]
    assert isinstance(first, AssistantMessage) and first.status == "interrupted"


async def test_a_backchannel_over_the_bar_does_not_cut_the_reply() -> None:
    log = await (
        Scenario(mock_llm_sentences=6, barge_in_min_ms=200, mock_asr_partial_every_ms=100)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.5, "mm-hmm yeah")  # words known after 100 ms: only backchannel
        .run(until=20)
    )
    assert log.of(ev.SpeechStop) == [] and len(log.of(ev.SpeechResume)) == 1
    assert log.first(ev.SpeechResume)[0] < 2.5 + 0.6, "resumed before a turn's end-of-speech silence"
    assert log.session.history.items[-1].status == "completed"  # type: ignore[union-attr]


async def test_a_stop_word_cuts_under_the_bar() -> None:
    log = await (
        Scenario(mock_llm_sentences=6, barge_in_min_ms=800, mock_asr_partial_every_ms=100)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.4, "wait")
        .run(until=8)
    )
    stop_at, stop = log.first(ev.SpeechStop)
    assert stop.reason == "barge_in" and stop_at < 2.0 + 0.8, "cut by its word, before the 800 ms bar"


async def test_with_pausing_off_the_reply_plays_on_until_the_bar() -> None:
    log = await (
        Scenario(mock_llm_sentences=6, barge_in_pause=False)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.12, "cough")
        .run(until=20)
    )
    assert log.of(ev.SpeechPause) == [] and log.of(ev.SpeechStop) == []


async def test_at_the_bar_the_pause_holds_until_words_tell_a_question_from_a_backchannel() -> None:
    log = await (
        Scenario(mock_llm_sentences=8, barge_in_min_ms=200, mock_asr_partial_every_ms=400)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.6, "uh-huh")  # 600 ms, over the bar; no words until 400 ms of audio
        .user_says(6.0, 7.0, "what about tomorrow")
        .run(until=12)
    )
    (resumed_at, _), (stop_at, stop) = log.first(ev.SpeechResume), log.first(ev.SpeechStop)
    assert 2.6 + 0.3 - 2 * FRAME_S <= resumed_at < 2.6 + 0.6, "held past the bar; its words only a backchannel: resumed"
    assert stop.turn_id == 1 and 6.2 - 2 * FRAME_S < stop_at <= 6.0 + 0.4 + 2 * FRAME_S, "cut: its words are known"
    users = [item.text for item in log.session.history.items if isinstance(item, UserMessage)]
    assert users == ["first words", "what about tomorrow"], "the backchannel is no turn"


async def test_words_known_only_at_the_end_decide_too() -> None:
    log = await (
        Scenario(mock_llm_sentences=8, barge_in_min_ms=200, mock_asr_partial_every_ms=5000)  # no partials
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.5, "yeah okay")
        .user_says(5.0, 5.5, "no")
        .run(until=12)
    )
    assert len(log.of(ev.SpeechResume)) == 1 and log.first(ev.SpeechResume)[0] > 2.5 + 0.5, "its final decided"
    stop_at, stop = log.first(ev.SpeechStop)
    assert stop.turn_id == 1 and 5.5 + 0.5 < stop_at < 5.5 + 0.7, "a stop word known only from the final"


async def test_held_speech_with_no_words_at_all_lets_the_reply_go_on() -> None:
    log = await (
        Scenario(mock_llm_sentences=8, barge_in_min_ms=200, mock_asr_partial_every_ms=5000)
        .user_says(0.0, 0.6, "first words")
        .user_says(2.0, 2.5, " ")  # claps over the bar: the recognizer finds no words
        .run(until=12)
    )
    assert log.of(ev.SpeechStop) == [] and len(log.of(ev.SpeechResume)) == 1
    assert log.first(ev.SpeechResume)[0] < 2.5 + 0.7, "resumed by the empty final, not by the pause limit"


async def test_a_reply_begun_while_the_user_was_talking_is_cut_at_the_bar_words_or_not() -> None:
    log = await (
        Scenario(mock_llm_sentences=8, barge_in_min_ms=200, mock_asr_final_delay_ms=300,
                 mock_asr_partial_every_ms=5000, turn_speculate=False)  # no partial words at all
        .user_says(0.0, 0.6, "first words")  # its final comes at 1.2 + 0.3 s
        .user_says(1.4, 2.5, "and another thing")  # 100 ms voiced when the reply starts: it is not paused
        .run(until=8)
    )  # fmt: skip
    stop_at, stop = log.first(ev.SpeechStop)
    assert log.of(ev.SpeechPause) == [] and stop.turn_id == 1
    assert stop_at == pytest.approx(1.4 + 0.2, abs=2 * FRAME_S), "the bar cuts it: nothing paused it"
