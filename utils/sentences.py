"""Incremental sentence segmentation of streamed LLM text, for speaking each sentence early.

A boundary is only confirmed once the character after the punctuation is seen, so "3." then
"5" never splits a decimal, and URLs, e-mail addresses and times (no space after their dots
and colons) stay whole. Known abbreviations and initials never end a sentence. Long
sentences may also be cut at a clause (", " "; " ": ") once they are long enough to be
worth speaking on their own.
"""

from __future__ import annotations

import re

_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof sr jr st mt ft vs etc approx dept est inc ltd co corp fig jan feb mar apr jun jul aug "
    "sep sept oct nov dec mon tue wed thu fri sat sun gen col lt sgt capt rev hon ave blvd rd no vol pp ca cf al"
)
ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_DOTTED = re.compile(r"^(?:[a-z]\.)+[a-z]$")  # e.g, i.e, u.s, a.m, p.m
_CLOSERS = "\"')]}»”’"
_TERMINATORS = ".!?…"
_CLAUSE_MARKS = ",;:"


def _is_abbreviation(word: str, next_char: str) -> bool:
    """Whether `word` (the text before a period, without it) is an abbreviation or initial."""
    token = word.lstrip("\"'([{«“‘").lower()
    if token == "no":  # "No. 5" is an abbreviation, "I said no." is not
        return next_char.isdigit()
    if token in ABBREVIATIONS or _DOTTED.match(token):
        return True
    return len(token) == 1 and token.isalpha() and word[-1:].isupper()


class SentenceSegmenter:
    """Feed text deltas with `push`; get back each sentence or clause once it is complete."""

    def __init__(self, clause_min_chars: int = 60) -> None:
        self.clause_min_chars = clause_min_chars
        self._buffer = ""

    def push(self, delta: str) -> list[str]:
        self._buffer += delta
        pieces: list[str] = []
        while (cut := self._find_boundary()) is not None:
            piece, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            if piece:
                pieces.append(piece)
        return pieces

    def flush(self) -> str:
        """The text left at the end of the stream."""
        rest, self._buffer = self._buffer.strip(), ""
        return rest

    def _find_boundary(self) -> int | None:
        text = self._buffer
        for i, char in enumerate(text):
            if char == "\n":
                if text[:i].strip():
                    return i + 1
                continue
            if char not in _TERMINATORS and char not in _CLAUSE_MARKS:
                continue
            end = i + 1
            while end < len(text) and (text[end] in _CLOSERS or text[end] in _TERMINATORS):
                end += 1
            if end >= len(text):
                return None  # the next character decides
            if not text[end].isspace():
                continue  # 3.5, 7:30, example.com, 1,000
            if char in _CLAUSE_MARKS:
                if i >= self.clause_min_chars:
                    return end
                continue
            if char == ".":
                word, next_char = _last_word(text, i), _next_visible(text, end)
                if word.lower() == "no" and not next_char:
                    return None  # "No. 5" or "said no. Then": wait for the next word
                if _is_abbreviation(word, next_char) or text[:i].strip().isdigit():
                    continue  # "Mr. Smith", "e.g. this", a list's "1. "
            return end
        return None


def sentence_ends(text: str) -> list[int]:
    """Where each confirmed sentence of `text` ends (after its punctuation), by the same rules."""
    segmenter = SentenceSegmenter(clause_min_chars=len(text) + 1)  # sentences only, never clauses
    ends: list[int] = []
    segmenter._buffer = text
    while (cut := segmenter._find_boundary()) is not None:
        ends.append((ends[-1] if ends else 0) + cut)
        segmenter._buffer = segmenter._buffer[cut:]
    return ends


def _last_word(text: str, dot_index: int) -> str:
    start = dot_index
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:dot_index]


def _next_visible(text: str, index: int) -> str:
    stripped = text[index:].lstrip()
    return stripped[:1]
