"""Barge-in policy: when the user's speech cuts the bot off, and when it is only a backchannel.

A strategy object of its own, so turn taking can change (a word count, a backchannel list,
pause and resume) without touching the coordinator. It reads two facts of a stretch of
speech: how much of it was voiced, and whether it began while a reply was running.
"""

from __future__ import annotations

from typing import Literal, Protocol

EndVerdict = Literal["answer", "cut_and_answer", "ignore"]


class SpeechView(Protocol):
    @property
    def voiced_ms(self) -> int: ...

    @property
    def started_during_reply(self) -> bool: ...


class ReplyView(Protocol):
    @property
    def allow_interruptions(self) -> bool: ...


class BargeInPolicy:
    def __init__(self, min_voiced_ms: int) -> None:
        self.min_voiced_ms = min_voiced_ms

    def interrupts(self, speech: SpeechView, reply: ReplyView | None) -> bool:
        """Whether this speech cuts the running reply now (checked on every voiced frame)."""
        return reply is not None and reply.allow_interruptions and speech.voiced_ms >= self.min_voiced_ms

    def at_end(self, speech: SpeechView, reply: ReplyView | None) -> EndVerdict:
        """What to do with speech that has ended while `reply` (if any) still runs.

        Speech that began during the reply and stayed under the bar is a backchannel
        ("uh-huh"): ignored. Speech that began before the reply started is the user going on:
        the reply is cut and the words answered. Anything else is answered.
        """
        if reply is None:
            return "answer"
        if speech.started_during_reply:
            return "answer" if speech.voiced_ms >= self.min_voiced_ms else "ignore"
        return "cut_and_answer"

    def holds_reply(self, talking: SpeechView | None) -> bool:
        """Whether a new reply should wait because the user is already saying more."""
        return talking is not None and talking.voiced_ms >= self.min_voiced_ms
