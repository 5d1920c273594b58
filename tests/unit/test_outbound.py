"""The connection's send queue: bounded, and a stopped turn's audio can be dropped."""

from __future__ import annotations

import pytest

from websocket import events as ev
from websocket.outbound import OutboundQueue


async def test_a_stopped_turns_unsent_audio_is_dropped_in_place() -> None:
    queue = OutboundQueue(maxsize=10)
    queue.emit(ev.AudioOut(1, 0, b"a"))
    queue.emit(ev.StateChanged("speaking"))
    queue.emit(ev.AudioOut(1, 1, b"b"))
    queue.emit(ev.AudioOut(2, 0, b"c"))
    assert queue.clear_audio(1) == 2
    assert [await queue.get() for _ in range(2)] == [ev.StateChanged("speaking"), ev.AudioOut(2, 0, b"c")]


async def test_overflow_marks_the_connection_instead_of_growing() -> None:
    queue = OutboundQueue(maxsize=3)
    for index in range(3):
        queue.emit(ev.AudioOut(1, index, b""))
    assert not queue.overflowed
    queue.emit(ev.StateChanged("listening"))
    assert queue.overflowed and len(queue) == 0
    assert await queue.get() is None
    queue.emit(ev.StateChanged("listening"))
    assert len(queue) == 0


@pytest.mark.looptime
async def test_get_waits_for_the_next_event() -> None:
    import asyncio

    queue = OutboundQueue(maxsize=3)
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(1)
    assert not waiter.done()
    queue.emit(ev.StateChanged("thinking"))
    assert await waiter == ev.StateChanged("thinking")
