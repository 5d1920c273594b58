"""The connection's send queue: bounded, and a stopped turn's audio can be dropped in place."""

from __future__ import annotations

import asyncio

import pytest

from websocket.outbound import OutboundQueue, Outgoing


async def test_a_stopped_turns_unsent_audio_is_dropped_in_place() -> None:
    queue = OutboundQueue(maxsize=10)
    queue.push(b"a", audio_of_turn=1)
    queue.push('{"type": "status"}')
    queue.push(b"b", audio_of_turn=1)
    queue.push(b"c", audio_of_turn=2)
    assert queue.clear_audio(1) == 2
    assert [await queue.get() for _ in range(2)] == [Outgoing('{"type": "status"}'), Outgoing(b"c", 2)]


async def test_overflow_marks_the_connection_instead_of_growing() -> None:
    queue = OutboundQueue(maxsize=3)
    for index in range(3):
        queue.push(bytes([index]), audio_of_turn=1)
    assert not queue.overflowed
    queue.push("{}")
    assert queue.overflowed and len(queue) == 0
    assert await queue.get() is None
    queue.push("{}")
    assert len(queue) == 0


@pytest.mark.looptime
async def test_get_waits_for_the_next_frame() -> None:
    queue = OutboundQueue(maxsize=3)
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(1)
    assert not waiter.done()
    queue.push("{}")
    assert await waiter == Outgoing("{}")
