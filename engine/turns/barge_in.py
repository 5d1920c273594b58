"""What the user's speech does to the running reply, frame by frame: pause it at once, cut it
when the speech proves an interruption, resume it exactly where it held when it does not.

The BargeInPolicy decides; this object acts on the reply handle (pause, resume, stop are
method calls on it) and tells the client when speech that counts as a turn begins and ends.
"""

from __future__ import annotations

import asyncio
import logging

from engine import events as ev
from engine.replies import Replies
from engine.reply import Reply
from engine.turns.policy import BargeInPolicy
from engine.utterance import Utterance

log = logging.getLogger(__name__)


class BargeIn:
    def __init__(self, policy: BargeInPolicy, replies: Replies, sink: ev.EventSink) -> None:
        self.policy = policy
        self.enabled = True  # the user's speech may cut a reply
        self._replies = replies
        self._sink = sink
        self._paused: tuple[Reply, Utterance] | None = None
        self._limit: asyncio.TimerHandle | None = None

    def started(self, utterance: Utterance) -> None:
        reply = self._replies.current
        utterance.started_during_reply = reply is not None
        if reply is None:
            self._announce(utterance)  # during a reply, speech counts as a turn only once it cuts in
        elif self.enabled and self.policy.pauses(reply) and reply.pause(utterance.onset_at):
            self._paused = (reply, utterance)
            limit_s = self.policy.options.pause_max_ms / 1000
            self._limit = asyncio.get_running_loop().call_later(limit_s, self._pause_ran_out)

    def heard(self, utterance: Utterance) -> None:
        """More audio or words of the utterance: cut the reply, resume it, or keep waiting."""
        reply = self._replies.current
        if not self.enabled or reply is None:
            return
        held = self._paused == (reply, utterance)
        if self.policy.interrupts(utterance, reply, held):
            log.info("turn %d: barge-in after %d ms of speech", utterance.turn_id, utterance.voiced_ms)
            self._cut(utterance)
        elif held and self._fell_quiet(utterance):
            self.resume("the speech stopped short of an interruption")

    def _fell_quiet(self, utterance: Utterance) -> bool:
        """Quiet for BARGE_IN_RESUME_SILENCE_MS, under the bar or with only backchannel words so far."""
        policy = self.policy
        if utterance.quiet_ms < policy.options.resume_silence_ms:
            return False
        return utterance.voiced_ms < policy.min_voiced_ms or bool(
            utterance.partial_text and policy.dismisses(utterance.partial_text)
        )

    def ended(self, utterance: Utterance) -> bool:
        """The utterance ended; False when it was not a turn (the reply, if paused, goes on)."""
        verdict = self.policy.at_end(utterance, self._replies.current)
        if verdict == "ignore":
            log.info("turn %d: %d ms of speech, not an interruption", utterance.turn_id, utterance.voiced_ms)
            if self._held_by(utterance):
                self.resume("not an interruption")
            return False
        if self._held_by(utterance):
            utterance.deferred = True  # the reply stays paused: its final transcript decides (takes_turn)
            return True
        self._announce(utterance)
        if verdict == "cut_and_answer" and self.enabled:
            self._cut(utterance)  # it started while the user was already talking
        self._sink.emit(ev.UserSpeechStopped(utterance.turn_id, utterance.item_id, utterance.audio_end_ms))
        return True

    def takes_turn(self, utterance: Utterance, text: str) -> bool:
        """Whether a transcript is a turn. Speech that held a paused reply until its words were
        known is dismissed when they are only backchannel ("mm-hmm, yeah"): the reply resumes."""
        if not utterance.deferred:
            return True
        reply = self._replies.current
        if self._paused == (reply, utterance) and self.policy.dismisses(text):
            self.resume(f"{text!r} is not an interruption")
            return False
        if reply is not None and self.enabled:
            self._cut(utterance)
        else:
            self._announce(utterance)
            self._forget_pause()
        self._sink.emit(ev.UserSpeechStopped(utterance.turn_id, utterance.item_id, utterance.audio_end_ms))
        return True

    def resume(self, why: str = "") -> None:
        """Let a paused reply go on from where it held."""
        paused = self._paused
        self._forget_pause()
        if paused is not None and paused[0] is self._replies.current and paused[0].resume():
            log.info("turn %d: playback resumed: %s", paused[0].turn_id, why)

    def _pause_ran_out(self) -> None:
        """BARGE_IN_PAUSE_MAX_MS: speech over the bar cuts the reply; anything less lets it go on."""
        self._limit = None
        paused = self._paused
        if (
            paused is not None
            and paused[1].voiced_ms >= self.policy.min_voiced_ms
            and paused[0] is self._replies.current
        ):
            self._cut(paused[1])
        else:
            self.resume("the pause lasted BARGE_IN_PAUSE_MAX_MS")

    def _cut(self, utterance: Utterance) -> None:
        """The speech is an interruption: it is told as a turn's start, and the reply is cut."""
        self._announce(utterance)
        self._forget_pause()
        self._replies.stop("barge_in", utterance.onset_at)

    def _held_by(self, utterance: Utterance) -> bool:
        return self._paused is not None and self._paused[1] is utterance

    def close(self) -> None:
        self._forget_pause()

    def _forget_pause(self) -> None:
        self._paused = None
        if self._limit is not None:
            self._limit.cancel()
            self._limit = None

    def _announce(self, utterance: Utterance) -> None:
        if not utterance.announced:
            utterance.announced = True
            self._sink.emit(ev.UserSpeechStarted(utterance.turn_id, utterance.item_id, utterance.audio_start_ms))
