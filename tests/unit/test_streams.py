"""The shared pieces of provider streams: the channel-backed ASR stream base, and the
thread-to-loop channel."""

from __future__ import annotations

import asyncio
import threading

import pytest

from services.base import ASRResult
from services.bridge import ThreadChannel
from services.errors import ProviderError
from services.streams import ChannelASRStream


class Echo(ChannelASRStream):
    """Partials of how many bytes it has, then a final; or a scripted misbehaviour."""

    def __init__(self, mode: str = "good") -> None:
        super().__init__(wake_every_bytes=4)
        self.mode = mode
        self.released = 0

    async def _recognize(self) -> None:
        while not self.finished:
            await self._wait_for_audio()
            await self._emit(ASRResult(f"{self.received_bytes} bytes", is_final=False))
        if self.mode == "fail":
            raise ProviderError("asr", "engine broke")
        if self.mode == "silent":
            return  # ends with no final
        await self._emit(ASRResult("done", is_final=True))
        await self._emit(ASRResult("too late", is_final=True))

    def _release(self) -> None:
        self.released += 1


async def results_of(stream: ChannelASRStream, chunks: int) -> list[ASRResult]:
    reader = asyncio.ensure_future(_collect(stream))
    for _ in range(chunks):
        stream.push(b"\x00\x00\x00\x00")
        await asyncio.sleep(0.01)
    stream.finish()
    return await reader


async def _collect(stream: ChannelASRStream) -> list[ASRResult]:
    return [r async for r in stream.results()]


@pytest.mark.looptime
async def test_partials_then_exactly_one_final_whatever_the_recognizer_emits() -> None:
    stream = Echo()
    results = await results_of(stream, 3)
    assert [r.text for r in results] == ["4 bytes", "8 bytes", "12 bytes", "12 bytes", "done"]
    assert [r.is_final for r in results].count(True) == 1
    await stream.aclose()
    await stream.aclose()
    assert stream.released == 1


@pytest.mark.looptime
async def test_a_recognizer_that_ends_without_a_final_gives_an_empty_one() -> None:
    results = await results_of(Echo("silent"), 1)
    assert results[-1] == ASRResult("", is_final=True)


@pytest.mark.looptime
async def test_a_recognizer_failure_reaches_the_reader() -> None:
    with pytest.raises(ProviderError, match="engine broke"):
        await results_of(Echo("fail"), 1)


@pytest.mark.looptime
async def test_audio_after_finish_is_ignored_and_wakeups_come_per_batch() -> None:
    stream = Echo()
    stream.push(b"\x00\x00")  # under the batch: no wake-up yet
    assert not stream._wake.is_set()
    stream.push(b"\x00\x00")
    assert stream._wake.is_set()
    stream.finish()
    stream.push(b"\x00" * 100)
    assert stream.received_bytes == 4
    await stream.aclose()


async def test_a_thread_channel_is_bounded_and_never_blocks_a_stopped_producer() -> None:
    channel: ThreadChannel[int] = ThreadChannel(asyncio.get_running_loop(), capacity=2)
    stop = threading.Event()
    sent: list[bool] = []

    def produce() -> None:
        sent.extend(channel.put(n, stop) for n in range(6))

    producer = threading.Thread(target=produce)
    producer.start()
    await asyncio.sleep(0.2)
    assert channel._queue.qsize() == 2, "the producer waits for room"
    assert [await channel.get(), await channel.get()] == [0, 1]
    await asyncio.sleep(0.2)
    stop.set()  # the consumer goes away: the producer waiting for room gives up
    await asyncio.to_thread(producer.join, 5)
    assert not producer.is_alive() and sent == [True, True, True, True, False, False]
