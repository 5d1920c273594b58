"""Sentences go to TTS as soon as they are complete, and never split in the wrong place."""

from __future__ import annotations

import pytest

from utils.sentences import SentenceSegmenter


def segment(text: str, step: int = 1, clause_min_chars: int = 60) -> list[str]:
    """Feed `text` in slices of `step` characters, as a token stream would."""
    segmenter = SentenceSegmenter(clause_min_chars)
    pieces: list[str] = []
    for i in range(0, len(text), step):
        pieces += segmenter.push(text[i : i + step])
    if rest := segmenter.flush():
        pieces.append(rest)
    return pieces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there. How are you? Fine!", ["Hello there.", "How are you?", "Fine!"]),
        ("It costs 3.5 dollars. Cheap.", ["It costs 3.5 dollars.", "Cheap."]),
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        ("Bring fruit, e.g. apples, i.e. food. Then go.", ["Bring fruit, e.g. apples, i.e. food.", "Then go."]),
        ("Meet at 7:30 tonight. Bye.", ["Meet at 7:30 tonight.", "Bye."]),
        ("See https://example.com/a.b?c=1 now. Ok.", ["See https://example.com/a.b?c=1 now.", "Ok."]),
        ("Mail bob.smith@example.co.uk today. Thanks.", ["Mail bob.smith@example.co.uk today.", "Thanks."]),
        ("J. K. Rowling wrote it. Yes.", ["J. K. Rowling wrote it.", "Yes."]),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("Wait... what? Really!?", ["Wait...", "what?", "Really!?"]),
        ("Room No. 5 is free. I said no. Fine.", ["Room No. 5 is free.", "I said no.", "Fine."]),
        ("1. Eggs\n2. Milk\n", ["1. Eggs", "2. Milk"]),
        ("We have 1,000 items. Done.", ["We have 1,000 items.", "Done."]),
        ("The U.S. Army is big. Ok.", ["The U.S. Army is big.", "Ok."]),
        ("no end punctuation", ["no end punctuation"]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert segment(text) == expected
    assert segment(text, step=4) == expected
    assert segment(text, step=len(text)) == expected


def test_a_sentence_is_released_as_soon_as_the_next_word_begins() -> None:
    segmenter = SentenceSegmenter()
    assert segmenter.push("The answer is 3.") == []  # could still be 3.5
    assert segmenter.push(" The") == ["The answer is 3."]


def test_long_sentences_are_cut_at_clauses_short_ones_are_not() -> None:
    long = "This sentence runs on for quite a while before its first comma, and then it goes on further."
    assert segment(long) == [
        "This sentence runs on for quite a while before its first comma,",
        "and then it goes on further.",
    ]
    assert segment("Short, sweet; done.") == ["Short, sweet; done."]
