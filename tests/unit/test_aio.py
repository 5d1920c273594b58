"""Owning tasks: cancel and join with a bound; close steps that cannot hang."""

from __future__ import annotations

import asyncio
import logging

import pytest

from utils.aio import bounded, cancel_and_wait

pytestmark = pytest.mark.looptime


async def test_cancel_and_wait_ends_tasks_and_retrieves_their_failures() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    sleeper = asyncio.create_task(asyncio.sleep(100))
    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([sleeper, failed], 1.0) is True
    assert sleeper.cancelled() and failed.done()


async def test_a_task_that_outlives_the_bound_is_logged_not_waited_for(caplog: pytest.LogCaptureFixture) -> None:
    may_stop = asyncio.Event()

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                if may_stop.is_set():
                    raise
                # refuses to stop the first time

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.ERROR):
        assert await cancel_and_wait([task], 0.5) is False
    assert asyncio.get_running_loop().time() - started == pytest.approx(0.5)
    assert "stubborn did not stop within 0.5 s" in caplog.text
    may_stop.set()
    assert await cancel_and_wait([task], 0.5) is True


async def test_bounded_returns_the_result_or_none_on_timeout_or_failure() -> None:
    async def answer() -> int:
        return 42

    async def broken() -> int:
        raise OSError("gone")

    async def slow() -> int:
        await asyncio.sleep(10)
        return 1

    assert await bounded(answer(), 1.0, "answer") == 42
    assert await bounded(slow(), 1.0, "hang") is None
    assert await bounded(broken(), 1.0, "broken") is None
