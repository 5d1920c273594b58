"""Silero for every session at once: the windows all conversations need within one turn of
the event loop run as one batched inference at the end of it, about 40 us a window in
batches of 8 against 80-110 us one at a time (engine/turns/silero.py). A session's frame
waits that one turn of the loop for its decision, never a frame's worth of audio: nothing
is decided later than it was.

A stream's state is recurrent, so its windows run in order: a request holds one stream's
windows, and a flush runs them in rounds (the first window of every request, then the
second, ...). A request dropped before its results are used (the stream was reset or
closed meanwhile) leaves the stream as the reset left it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from engine.turns.silero import SileroStream, probabilities

MAX_BATCH = 64  # windows in one inference; more run as further inferences in the same flush
MIN_BATCH = 2.0  # sessions with windows in a turn of the loop (typically) before they wait to batch
TYPICAL_WEIGHT = 0.1  # of the latest turn in the running figure of sessions per turn


@dataclass(eq=False)
class Request:
    """One stream's windows, in order, and their speech probabilities once run."""

    stream: SileroStream
    windows: list[np.ndarray]
    done: asyncio.Future[list[float]]
    results: list[float] = field(default_factory=list)
    dropped: bool = False  # the stream was reset or closed: its results are not used


class SileroBatcher:
    """The process's queue of Silero windows, flushed once per turn of the event loop.

    Waiting costs a session a suspension and the loop a turn, more than batching saves when
    few sessions speak at once (at 10 sessions, 1.1 windows a batch: 6-26 % more CPU). So the batcher
    keeps a running figure of how many sessions have windows in one turn of the loop, counted
    alike whether they waited or ran alone, and sessions wait only while it is MIN_BATCH or more.
    """

    def __init__(self, max_batch: int = MAX_BATCH, min_batch: float = MIN_BATCH) -> None:
        self.max_batch = max_batch
        self.min_batch = min_batch
        self.inferences = 0  # batched inferences run, and the windows they held: their ratio is the mean batch
        self.windows = 0
        self.typical = 0.0  # sessions with windows per turn of the loop, lately
        self._pending: list[Request] = []
        self._flush_on: asyncio.AbstractEventLoop | None = None
        self._alone = 0  # sessions that ran their windows alone in this turn of the loop
        self._count_on: asyncio.AbstractEventLoop | None = None

    @property
    def batching(self) -> bool:
        """Whether a session's windows should wait for the batch now."""
        return self.typical >= self.min_batch

    def ran_alone(self) -> None:
        """A session ran its windows at once (not batching): counted into this turn's figure."""
        loop = asyncio.get_running_loop()
        self._alone += 1
        if self._count_on is not loop:
            self._count_on = loop
            loop.call_soon(self._end_turn)

    def _end_turn(self) -> None:
        self._count_on = None
        self._note(self._alone)
        self._alone = 0

    def _note(self, sessions: int) -> None:
        self.typical += TYPICAL_WEIGHT * (sessions - self.typical)

    def submit(self, stream: SileroStream, windows: list[np.ndarray]) -> Request:
        """Queue `windows` of `stream`; await `request.done` for their probabilities."""
        loop = asyncio.get_running_loop()
        request = Request(stream, windows, loop.create_future())
        self._pending.append(request)
        if self._flush_on is not loop:  # none scheduled on this loop yet (or a former loop closed with one)
            self._flush_on = loop
            loop.call_soon(self._flush)
        return request

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        self._flush_on = None
        pending, self._pending = self._pending, []
        live: list[Request] = []
        for request in pending:
            if request.done.get_loop() is not loop or request.done.done():
                continue  # of a closed loop, or its task was cancelled
            if request.dropped:
                request.done.set_result([])
            else:
                live.append(request)
        self._note(len(live))
        try:
            self._run(live)
        except Exception as error:  # every waiting session hears of it, none hangs
            for request in live:
                request.done.set_exception(error)
            return
        for request in live:
            request.done.set_result(request.results)

    def _run(self, requests: list[Request]) -> None:
        index = 0
        while rows := [request for request in requests if len(request.windows) > index]:
            for start in range(0, len(rows), self.max_batch):
                chunk = rows[start : start + self.max_batch]
                found = probabilities([r.stream for r in chunk], [r.windows[index] for r in chunk])
                for request, probability in zip(chunk, found, strict=True):
                    request.results.append(probability)
                self.inferences += 1
                self.windows += len(chunk)
            index += 1
