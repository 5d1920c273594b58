"""A deadline moved on every frame fires once, `after_s` past the last move, or not at all
once cleared; in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from utils.deadline import MovingDeadline

pytestmark = pytest.mark.looptime


async def test_it_fires_after_the_last_move_only() -> None:
    loop, fired = asyncio.get_running_loop(), []
    deadline = MovingDeadline(lambda: fired.append(loop.time()))
    began = loop.time()
    for _ in range(50):  # a second of 20 ms frames, each moving it 1.5 s on
        deadline.move(1.5)
        await asyncio.sleep(0.02)
    last_move = loop.time() - 0.02
    await asyncio.sleep(3)
    assert fired == [pytest.approx(last_move + 1.5)] and fired[0] > began + 2


async def test_a_cleared_deadline_does_not_fire_and_can_be_set_again() -> None:
    loop, fired = asyncio.get_running_loop(), []
    deadline = MovingDeadline(lambda: fired.append(loop.time()))
    deadline.move(1.0)
    await asyncio.sleep(0.5)
    deadline.clear()
    await asyncio.sleep(2)
    assert fired == []
    deadline.move(1.0)
    await asyncio.sleep(2)
    assert len(fired) == 1
