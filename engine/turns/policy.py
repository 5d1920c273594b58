"""Barge-in policy: when the user's speech pauses the bot, cuts it off, or lets it go on.

A strategy object of its own, so turn taking can change without touching the coordinator.
It reads what is known of a stretch of speech: how much of it was voiced, how long it has
been quiet, whether it began while a reply was running, and its words so far. Speech
pauses a reply at its first confirmed frame; it cuts the reply once it reaches the bar (or
says a stop word), unless its words so far are only a backchannel ("mm-hmm", "yeah"); a
pause that proves to be nothing (a cough, a laugh, a door) resumes where it held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

EndVerdict = Literal["answer", "cut_and_answer", "ignore"]
BACKCHANNELS = (
    "mm", "mhm", "mm-hmm", "mmhmm", "uh-huh", "uh huh", "hmm", "yeah", "yes", "yep", "ok", "okay", "right", "sure",
    "i see", "oh", "ah", "wow", "cool", "nice", "got it", "uh", "um", "ha", "haha", "hah", "heh",
)  # fmt: skip
STOP_WORDS = ("stop", "wait", "hold on", "hang on", "no", "sorry", "excuse me", "pause", "shut up", "quiet")
WORD = re.compile(r"[a-z]+(?:[-'][a-z]+)*")
FILLER_SYLLABLES = frozenset({"mm", "mmm", "hm", "hmm", "uh", "huh", "um", "ah", "oh", "mhm", "ha", "he"})


@dataclass(frozen=True)
class TurnTakingOptions:
    pause: bool = True  # pause the reply at the first confirmed speech frame
    resume_silence_ms: int = 300  # a pause whose speech has been quiet this long resumes
    pause_max_ms: int = 3000  # no pause lasts longer than this
    min_words: int = 1  # once words are known, this many that are not backchannel cut the reply
    wait_for_words: bool = True  # at the bar with no words yet, hold the pause until they are known
    backchannels: tuple[str, ...] = BACKCHANNELS
    stop_words: tuple[str, ...] = STOP_WORDS


class SpeechView(Protocol):
    @property
    def voiced_ms(self) -> int: ...

    @property
    def started_during_reply(self) -> bool: ...

    @property
    def partial_text(self) -> str: ...


class ReplyView(Protocol):
    @property
    def allow_interruptions(self) -> bool: ...


@dataclass
class BargeInPolicy:
    min_voiced_ms: int
    options: TurnTakingOptions = field(default_factory=TurnTakingOptions)

    def pauses(self, reply: ReplyView | None) -> bool:
        """Whether speech that has just begun holds the running reply's audio."""
        return reply is not None and reply.allow_interruptions and self.options.pause

    def interrupts(self, speech: SpeechView, reply: ReplyView | None, held: bool = False) -> bool:
        """Whether this speech cuts the running reply now (checked on every frame and every partial);
        `held`: the reply is paused by this speech, so waiting for its words costs nothing audible."""
        if reply is None or not reply.allow_interruptions:
            return False
        words = self.words(speech.partial_text)
        if self.says_stop(words):
            return True
        if speech.voiced_ms < self.min_voiced_ms:
            return False
        if not words:  # while paused, nothing is lost by waiting for the words that tell a cough from a question
            return not (held and self.options.wait_for_words)
        return self.meaningful(words) >= self.options.min_words

    def dismisses(self, text: str) -> bool:
        """Whether a transcript is not an interruption: no stop word, too few words beyond backchannel."""
        words = self.words(text)
        return not self.says_stop(words) and self.meaningful(words) < self.options.min_words

    def at_end(self, speech: SpeechView, reply: ReplyView | None) -> EndVerdict:
        """What to do with speech that has ended while `reply` (if any) still runs.

        Speech that began during the reply and stayed under the bar was not an interruption (a
        cough, a click): ignored, and the reply goes on. Over the bar but not yet decided (its
        words unknown, or only backchannel so far), its final transcript decides. Speech that
        began before the reply started is the user going on: the reply is cut and the words
        answered.
        """
        if reply is None:
            return "answer"
        if not speech.started_during_reply:
            return "cut_and_answer"
        if speech.voiced_ms < self.min_voiced_ms or (
            reply.allow_interruptions and speech.partial_text and self.dismisses(speech.partial_text)
        ):
            return "ignore"
        return "answer"  # held for its words (the final transcript decides), or a reply that may not be cut

    def holds_reply(self, talking: SpeechView | None) -> bool:
        """Whether a new reply should wait because the user is already saying more."""
        return talking is not None and talking.voiced_ms >= self.min_voiced_ms

    @staticmethod
    def words(text: str) -> list[str]:
        return WORD.findall(text.lower())

    def says_stop(self, words: list[str]) -> bool:
        said = " " + " ".join(words) + " "
        return any(f" {phrase} " in said for phrase in self.options.stop_words)

    def meaningful(self, words: list[str]) -> int:
        """Words that are not backchannel (a two-word backchannel counts as such too)."""
        words = [word for word in words if not set(word.split("-")) <= FILLER_SYLLABLES]  # "mm-mm", "uh-uh"
        said, before = " " + " ".join(words) + " ", ""
        while said != before:  # repeated: " yeah yeah " loses both
            before = said
            for phrase in sorted(self.options.backchannels, key=len, reverse=True):
                said = said.replace(f" {phrase} ", " ")
        return len(said.split())
