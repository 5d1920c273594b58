"""The silence after speech, watched: at the short silence, transcribe what was said, start the
reply unheard (speculation), and ask the end-of-turn model whether the user has finished.

A turn the model is sure of ends there; one it finds finished but less surely ends when the
silence reaches the unsure silence; an unfinished one runs on until the detector's longer silence.
Speech that resumes voids all of it: the draft is forgotten and the speculative reply is
discarded by the handler. Each watch is a task this object owns; `aclose` joins them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from engine.turns.end_of_turn import EndOfTurn
from engine.utterance import Utterance
from services.errors import ProviderError
from utils.aio import cancel_and_wait

log = logging.getLogger(__name__)


class Speculator(Protocol):
    def speculate(self, utterance: Utterance, text: str) -> None:
        """The words so far, at a short silence: a reply may start, unheard."""

    def speech_resumed(self, utterance: Utterance) -> None:
        """The user went on after a short silence: anything speculated is void."""


class EndWatch:
    def __init__(
        self, end: EndOfTurn, speculator: Speculator, end_now: Callable[[Utterance], None], draft_timeout_s: float
    ) -> None:
        self.end = end
        self.semantic = end.semantic
        self._speculator = speculator
        self._end_now = end_now
        self._draft_timeout_s = draft_timeout_s
        self._watch: tuple[Utterance, asyncio.Task[None]] | None = None
        self._ends_at_ms: int | None = None  # the silence at which the watched utterance ends, once decided
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def active(self) -> bool:
        return self.semantic or self.end.options.speculate

    def heard(self, utterance: Utterance) -> None:
        """Each frame of an utterance in progress, after its silence was counted."""
        if utterance.quiet_ms == 0:
            self._void()
        elif self._ends_at_ms is not None and utterance.silence_ms >= self._ends_at_ms:
            self._ends_at_ms = None
            log.info("turn %d: finished after %d ms of silence", utterance.turn_id, utterance.silence_ms)
            asyncio.get_running_loop().call_soon(self._end_now, utterance)  # not from inside this frame's handling
        elif self._watch is None and self.active and utterance.silence_ms >= self.end.options.short_silence_ms:
            task = asyncio.create_task(self._run(utterance), name=f"end-of-turn-{utterance.turn_id}")
            self._watch = (utterance, task)
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def ended(self) -> None:
        """The utterance ended; a watch still running has nothing left to decide."""
        watch, self._watch, self._ends_at_ms = self._watch, None, None
        if watch is not None and watch[1] is not asyncio.current_task():
            watch[1].cancel()

    def _void(self) -> None:
        """Speech again: whatever the short silence started is void."""
        watch, self._watch, self._ends_at_ms = self._watch, None, None
        if watch is None:
            return
        utterance, task = watch
        task.cancel()
        utterance.draft_text = None
        self._speculator.speech_resumed(utterance)

    async def _run(self, utterance: Utterance) -> None:
        verdict = None
        if self.semantic:  # the model hears the audio while the words are decoded
            verdict = asyncio.ensure_future(self.end.probability(bytes(utterance.recent)))
        try:
            try:
                text = await utterance.draft(self._draft_timeout_s)
            except (ProviderError, TimeoutError) as error:
                log.info("turn %d: no draft transcript (%s); the final will tell", utterance.turn_id, error)
                text = None
            if text is not None:
                if utterance.exact_drafts:
                    utterance.draft_text = text  # the final, unless the user goes on
                if text and self.end.options.speculate:
                    self._speculator.speculate(utterance, text)
            punctuated = text is not None and utterance.punctuated_drafts
            if verdict is not None:
                wait_ms = self.end.ends_after_ms(await verdict, text or utterance.partial_text, punctuated)
                if wait_ms is not None and utterance.silence_ms >= wait_ms:
                    log.info("turn %d: finished after a short silence", utterance.turn_id)
                    self._end_now(utterance)
                elif wait_ms is not None:
                    self._ends_at_ms = wait_ms  # `heard` ends it there, unless the user goes on
        finally:
            if verdict is not None and not verdict.done():
                verdict.cancel()

    def _done(self, task: asyncio.Task[None]) -> None:
        """A watch that has run stays the watch of this silence: the next one starts after speech."""
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("end-of-turn watch failed", exc_info=error)

    async def aclose(self, timeout_s: float) -> None:
        self._watch = None
        await cancel_and_wait(list(self._tasks), timeout_s)
