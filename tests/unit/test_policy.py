"""The barge-in policy on its own: the pause, the bar, stop words, backchannels, replies that may
not be cut."""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.turns.policy import BargeInPolicy, TurnTakingOptions


@dataclass
class Speech:
    voiced_ms: int
    started_during_reply: bool = True
    partial_text: str = ""


@dataclass
class Reply:
    allow_interruptions: bool = True


POLICY = BargeInPolicy(min_voiced_ms=200)


def test_speech_pauses_an_interruptible_reply_at_once_unless_pausing_is_off() -> None:
    assert POLICY.pauses(Reply()) and not POLICY.pauses(None) and not POLICY.pauses(Reply(allow_interruptions=False))
    assert not BargeInPolicy(200, replace(TurnTakingOptions(), pause=False)).pauses(Reply())


def test_speech_cuts_a_reply_once_it_reaches_the_bar() -> None:
    at_once = BargeInPolicy(200, replace(TurnTakingOptions(), wait_for_words=False))
    assert not at_once.interrupts(Speech(180), Reply())
    assert at_once.interrupts(Speech(200), Reply())
    assert not at_once.interrupts(Speech(900), None), "nothing to cut"
    assert not POLICY.interrupts(Speech(200), Reply(), held=True), "paused: its words decide once they are known"
    assert POLICY.interrupts(Speech(200, partial_text="what about"), Reply(), held=True)
    assert POLICY.interrupts(Speech(200), Reply()), "a reply that is not paused (it began while the user spoke)"


def test_words_decide_once_they_are_known() -> None:
    assert POLICY.interrupts(Speech(60, partial_text="wait"), Reply()), "a stop word cuts at once, under the bar"
    assert POLICY.interrupts(Speech(60, partial_text="Hold on, please"), Reply())
    assert not POLICY.interrupts(Speech(400, partial_text="mm-hmm"), Reply()), "a backchannel over the bar"
    assert not POLICY.interrupts(Speech(900, partial_text="yeah yeah, uh huh"), Reply())
    assert POLICY.interrupts(Speech(400, partial_text="yeah but what about Tuesday"), Reply())
    two_words = BargeInPolicy(200, replace(TurnTakingOptions(), min_words=2))
    assert not two_words.interrupts(Speech(400, partial_text="Tuesday"), Reply())
    assert two_words.interrupts(Speech(400, partial_text="and Tuesday"), Reply())


def test_a_reply_that_may_not_be_cut_is_never_cut_by_speech() -> None:
    assert not POLICY.interrupts(Speech(5000, partial_text="stop"), Reply(allow_interruptions=False))
    assert POLICY.at_end(Speech(5000), Reply(allow_interruptions=False)) == "answer", "answered after the reply"


def test_what_ended_speech_becomes() -> None:
    assert POLICY.at_end(Speech(100), None) == "answer"
    assert POLICY.at_end(Speech(100), Reply()) == "ignore", "a cough during the reply: it goes on"
    assert POLICY.at_end(Speech(900, partial_text="yeah"), Reply()) == "ignore", "a backchannel: it goes on"
    assert POLICY.at_end(Speech(100, started_during_reply=False), Reply()) == "cut_and_answer"


def test_a_new_reply_waits_while_the_user_is_already_saying_more() -> None:
    assert POLICY.holds_reply(Speech(200)) and not POLICY.holds_reply(Speech(100)) and not POLICY.holds_reply(None)
