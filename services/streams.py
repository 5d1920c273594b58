"""Stream pieces written once for every provider: per-step timeouts, and the ASR stream base.

A whole-stream timeout cuts long answers short (a fault of the server Parley descends
from); `with_step_timeouts` bounds the first item and every gap separately.

`ChannelASRStream` is the ASR contract done once: push() buffers audio and returns at
once, a recognizer task the stream owns turns audio into results, results() reads them
from a bounded channel, and aclose() cancels and joins that task. A provider writes only
`_recognize()`; the base guarantees exactly one final result, then the end.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from services.base import ASRResult
from services.errors import ProviderTimeout
from utils.aio import bounded, cancel_and_wait

T = TypeVar("T")
log = logging.getLogger(__name__)
RESULTS_QUEUE_SIZE = 32
CLOSE_BOUND_S = 1.0


async def with_step_timeouts(
    source: AsyncIterator[T], *, stage: str, first_s: float, idle_s: float
) -> AsyncGenerator[T, None]:
    """Yield from `source`, raising ProviderTimeout when an item is later than allowed."""
    timeout = first_s
    try:
        while True:
            try:
                async with asyncio.timeout(timeout):
                    item = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise ProviderTimeout(stage, f"no data within {timeout:g} s") from None
            timeout = idle_s
            yield item
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await bounded(aclose(), CLOSE_BOUND_S, f"{stage} stream close")


class _End:
    pass


_END = _End()


class ChannelASRStream(ABC):
    def __init__(self, wake_every_bytes: int = 1) -> None:
        self.finished = False
        self.received_bytes = 0
        self._pending = bytearray()  # pushed audio the recognizer has not taken yet
        self._wake_every = max(1, wake_every_bytes)
        self._unannounced = 0
        self._wake = asyncio.Event()
        self._channel: asyncio.Queue[ASRResult | BaseException | _End] = asyncio.Queue(RESULTS_QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None
        self._final_sent = False
        self._closed = False

    def push(self, pcm16: bytes) -> None:
        if self.finished:
            return
        self._pending.extend(pcm16)
        self.received_bytes += len(pcm16)
        self._unannounced += len(pcm16)
        if self._unannounced >= self._wake_every:  # wake the recognizer per batch, not per frame
            self._unannounced = 0
            self._wake.set()

    def finish(self) -> None:
        self.finished = True
        self._wake.set()

    async def results(self) -> AsyncIterator[ASRResult]:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name=f"{type(self).__name__}-recognizer")
        while not isinstance(item := await self._channel.get(), _End):
            if isinstance(item, BaseException):
                raise item
            yield item

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = self.finished = True
        self._pending.clear()
        if self._task is not None:
            await cancel_and_wait([self._task], CLOSE_BOUND_S)
        self._release()

    # ----- for subclasses ---------------------------------------------------------

    @abstractmethod
    async def _recognize(self) -> None:
        """Turn audio into results with `_wait_for_audio`, `_take_audio` and `_emit`."""

    def _release(self) -> None:
        """Give back engine resources (called once, on close); nothing to give back by default."""
        return None

    async def _wait_for_audio(self) -> None:
        """Until more audio arrived (a batch of `wake_every_bytes`) or the stream was finished."""
        await self._wake.wait()
        self._wake.clear()

    def _take_audio(self) -> bytes:
        audio = bytes(self._pending)
        self._pending.clear()
        return audio

    async def _emit(self, result: ASRResult) -> None:
        if self._final_sent:
            log.warning("%s: a result after the final one was dropped", type(self).__name__)
            return
        self._final_sent = result.is_final
        await self._channel.put(result)

    async def _run(self) -> None:
        try:
            await self._recognize()
            if not self._final_sent:
                await self._emit(ASRResult("", is_final=True))
        except Exception as error:  # passed to the reader, which raises it
            await self._channel.put(error)
        await self._channel.put(_END)
