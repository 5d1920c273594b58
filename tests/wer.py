"""Word error rate, after the normalisation speech benchmarks use: lower case, no
punctuation, numbers spelled out (so "15" and "fifteen" are the same word)."""

from __future__ import annotations

import re

ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """English words of 0 <= n < 10**9."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    for size, name in ((10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            head, rest = divmod(n, size)
            return f"{number_words(head)} {name}" + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError(n)


def _spell(match: re.Match[str]) -> str:
    text = match.group(0).replace(",", "")
    if ":" in text:  # a time of day: 7:30 -> seven thirty, 3:00 -> three
        hours, minutes = text.split(":")
        return number_words(int(hours)) + ("" if int(minutes) == 0 else " " + number_words(int(minutes)))
    if "." in text:
        whole, fraction = text.split(".")
        return number_words(int(whole)) + " point " + " ".join(ONES[int(d)] for d in fraction)
    return number_words(int(text))


ABBREVIATIONS = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miss", "st": "saint"}


def normalize(text: str) -> list[str]:
    text = text.lower().replace("%", " percent").replace("o'clock", "").replace("-", " ")
    text = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", text)
    text = re.sub(r"\d[\d,]*(?:[.:]\d+)?", _spell, text)
    words = re.sub(r"[^a-z' ]+", " ", text).replace("'", "").split()
    return [ABBREVIATIONS.get(word, word) for word in words]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word))
    return row[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(errors, reference words) for one utterance."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    return edit_distance(ref, hyp), len(ref)


def word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Corpus WER over (reference, hypothesis) pairs: total edits / total reference words."""
    errors = words = 0
    for reference, hypothesis in pairs:
        e, n = word_errors(reference, hypothesis)
        errors, words = errors + e, words + n
    return errors / max(words, 1)
