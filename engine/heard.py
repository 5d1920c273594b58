"""Which words of a reply the user heard, given how much of its audio was played.

Each spoken sentence has a span in the reply's audio. Inside a partly played sentence the
TTS's word timings decide where it was cut (when the TTS declares that it gives them);
without them, the audio is shared out over the words in proportion to their length (a
speech-rate estimate). A word counts as heard once its end has been played.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.base import WordTiming

# Speech-rate estimate for a sentence whose audio length is not yet known (~15 chars/s).
MS_PER_CHAR_ESTIMATE = 65.0


@dataclass
class SpokenSentence:
    text: str
    start_ms: float  # where its audio starts in the reply's audio
    end_ms: float | None = None  # None while its audio is still arriving
    words: list[WordTiming] = field(default_factory=list)  # relative to start_ms


class Timeline:
    def __init__(self, word_timings: bool = False) -> None:
        self.word_timings = word_timings  # the TTS times every word it voices
        self.sentences: list[SpokenSentence] = []

    def begin(self, text: str, start_ms: float) -> SpokenSentence:
        sentence = SpokenSentence(text, start_ms)
        self.sentences.append(sentence)
        return sentence

    def full_text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def heard_text(self, played_ms: float) -> str:
        parts: list[str] = []
        for sentence in self.sentences:
            if played_ms <= sentence.start_ms:
                break
            if sentence.end_ms is not None and played_ms >= sentence.end_ms - 0.5:
                parts.append(sentence.text)
                continue
            partial = _heard_words(sentence, played_ms - sentence.start_ms, self.word_timings)
            if partial:
                parts.append(partial)
            break
        return " ".join(parts)


def _heard_words(sentence: SpokenSentence, into_ms: float, timed: bool) -> str:
    if timed:  # timings arrive with the audio, so they cover all that was played
        return _heard_by_timings(sentence, into_ms)
    words = sentence.text.split()
    total = sentence.end_ms - sentence.start_ms if sentence.end_ms is not None else None
    chars = sum(len(w) + 1 for w in words)
    per_char = total / chars if total else MS_PER_CHAR_ESTIMATE
    heard, position = [], 0.0
    for word in words:
        position += (len(word) + 1) * per_char
        if position > into_ms + 0.5:
            break
        heard.append(word)
    return " ".join(heard)


def _heard_by_timings(sentence: SpokenSentence, into_ms: float) -> str:
    """The text up to the end of the last timed word played.

    Timed words are found in the text in order, so a TTS that splits or spells words its own
    way ("3.5", punctuation, hyphens) still cuts the text at the right place.
    """
    text, lowered, cursor = sentence.text, sentence.text.lower(), 0
    for timing in sorted(sentence.words, key=lambda w: w.start_ms):
        if timing.end_ms > into_ms + 0.5:
            break
        found = lowered.find(timing.word.lower(), cursor)
        if found >= 0:
            cursor = found + len(timing.word)
    while 0 < cursor < len(text) and not text[cursor].isspace():
        cursor += 1  # finish the word the timing ended in (trailing punctuation)
    return text[:cursor].strip()
