"""What the user heard, from the played position."""

from __future__ import annotations

from engine.heard import Timeline
from services.base import WordTiming


def two_sentences(with_timings: bool) -> Timeline:
    timeline = Timeline(word_timings=with_timings)
    first = timeline.begin("Hello there friend.", 0)
    first.end_ms = 1000
    if with_timings:
        first.words = [WordTiming("Hello", 0, 300), WordTiming("there", 350, 600), WordTiming("friend.", 650, 950)]
    second = timeline.begin("How are you?", 1000)
    second.end_ms = 1600
    return timeline


def test_whole_sentences_played_are_heard() -> None:
    timeline = two_sentences(with_timings=True)
    assert timeline.heard_text(0) == ""
    assert timeline.heard_text(1000) == "Hello there friend."
    assert timeline.heard_text(5000) == "Hello there friend. How are you?"
    assert timeline.full_text() == "Hello there friend. How are you?"


def test_word_timings_decide_inside_a_sentence() -> None:
    timeline = two_sentences(with_timings=True)
    assert timeline.heard_text(299) == ""
    assert timeline.heard_text(300) == "Hello"
    assert timeline.heard_text(700) == "Hello there"


def test_a_timing_tts_voices_no_word_before_its_timing_arrives() -> None:
    timeline = two_sentences(with_timings=True)
    assert timeline.heard_text(1300) == "Hello there friend.", "no estimate for the untimed second sentence"


def test_without_timings_words_share_the_audio_by_length() -> None:
    timeline = two_sentences(with_timings=False)
    # "How are you?" = 4+4+5 = 13 chars over 600 ms
    assert timeline.heard_text(1000 + 600 * 4 / 13) == "Hello there friend. How"
    assert timeline.heard_text(1000 + 600 * 8 / 13 - 5) == "Hello there friend. How"
    assert timeline.heard_text(1000 + 600 * 8 / 13) == "Hello there friend. How are"


def test_a_sentence_still_arriving_uses_a_speech_rate_estimate() -> None:
    timeline = Timeline()
    timeline.begin("one two three", 0)
    assert timeline.heard_text(65 * 4) == "one"
    assert timeline.heard_text(65 * 8) == "one two"


def test_timed_words_are_found_in_the_text_however_the_tts_splits_them() -> None:
    timeline = Timeline(word_timings=True)
    sentence = timeline.begin("It costs 3.5 dollars, well-known fact.", 0)
    sentence.words = [
        WordTiming("It", 0, 100),
        WordTiming("costs", 100, 300),
        WordTiming("3.5", 300, 700),
        WordTiming("dollars", 700, 900),
        WordTiming("well", 950, 1100),
        WordTiming("known", 1100, 1300),
    ]
    assert timeline.heard_text(750) == "It costs 3.5"
    assert timeline.heard_text(900) == "It costs 3.5 dollars,"
    assert timeline.heard_text(1100) == "It costs 3.5 dollars, well-known", "a split word counts once it starts"
