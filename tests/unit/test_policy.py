"""The barge-in policy on its own: the bar, backchannels, replies that may not be cut."""

from __future__ import annotations

from dataclasses import dataclass

from engine.turns.policy import BargeInPolicy


@dataclass
class Speech:
    voiced_ms: int
    started_during_reply: bool = True


@dataclass
class Reply:
    allow_interruptions: bool = True


POLICY = BargeInPolicy(min_voiced_ms=200)


def test_speech_cuts_a_reply_once_it_reaches_the_bar() -> None:
    assert not POLICY.interrupts(Speech(180), Reply())
    assert POLICY.interrupts(Speech(200), Reply())
    assert not POLICY.interrupts(Speech(900), None), "nothing to cut"


def test_a_reply_that_may_not_be_cut_is_never_cut_by_speech() -> None:
    assert not POLICY.interrupts(Speech(5000), Reply(allow_interruptions=False))
    assert POLICY.at_end(Speech(5000), Reply(allow_interruptions=False)) == "answer", "answered after the reply"


def test_what_ended_speech_becomes() -> None:
    assert POLICY.at_end(Speech(100), None) == "answer"
    assert POLICY.at_end(Speech(100), Reply()) == "ignore", "a backchannel during the reply"
    assert POLICY.at_end(Speech(100, started_during_reply=False), Reply()) == "cut_and_answer"


def test_a_new_reply_waits_while_the_user_is_already_saying_more() -> None:
    assert POLICY.holds_reply(Speech(200)) and not POLICY.holds_reply(Speech(100)) and not POLICY.holds_reply(None)
