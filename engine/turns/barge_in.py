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
            self._limit = asyncio.get_running_loop().call_later(limit_s, self.resume, "the pause lasted too long")

    def heard(self, utterance: Utterance) -> None:
        """More audio or words of the utterance: cut the reply, resume it, or keep waiting."""
        reply = self._replies.current
        if not self.enabled or reply is None:
            return
        if self.policy.interrupts(utterance, reply):
            log.info("turn %d: barge-in after %d ms of speech", utterance.turn_id, utterance.voiced_ms)
            self._announce(utterance)
            self._forget_pause()
            self._replies.stop("barge_in", utterance.onset_at)
        elif self._paused == (reply, utterance) and utterance.quiet_ms >= self.policy.options.resume_silence_ms:
            self.resume("the speech stopped short of an interruption")

    def ended(self, utterance: Utterance) -> bool:
        """The utterance ended; False when it was not a turn (the reply, if paused, goes on)."""
        verdict = self.policy.at_end(utterance, self._replies.current)
        if verdict == "ignore":
            log.info("turn %d: %d ms of speech, not an interruption", utterance.turn_id, utterance.voiced_ms)
            if self._paused is not None and self._paused[1] is utterance:
                self.resume("not an interruption")
            return False
        self._announce(utterance)
        if verdict == "cut_and_answer" and self.enabled:
            self._forget_pause()
            self._replies.stop("barge_in", utterance.onset_at)  # it started while the user was already talking
        self._sink.emit(ev.UserSpeechStopped(utterance.turn_id, utterance.item_id, utterance.audio_end_ms))
        return True

    def resume(self, why: str = "") -> None:
        """Let a paused reply go on from where it held."""
        paused = self._paused
        self._forget_pause()
        if paused is not None and paused[0] is self._replies.current and paused[0].resume():
            log.info("turn %d: playback resumed: %s", paused[0].turn_id, why)

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
