"""Retries before the first item only, with backoff, jitter and Retry-After (virtual time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from services.errors import ProviderError, ProviderUnavailable, RateLimited
from services.retry import RetryPolicy, retry_before_first

pytestmark = pytest.mark.looptime


def script(*outcomes: BaseException | list[str]) -> tuple[list[float], Callable[[], AsyncIterator[str]]]:
    """An opener whose n-th stream raises or yields outcomes[n]; records when each was opened."""
    opened: list[float] = []

    def open_stream() -> AsyncIterator[str]:
        outcome = outcomes[len(opened)]
        opened.append(asyncio.get_running_loop().time())

        async def stream() -> AsyncIterator[str]:
            if isinstance(outcome, BaseException):
                raise outcome
            for item in outcome:
                yield item

        return stream()

    return opened, open_stream


async def test_a_retryable_failure_before_the_first_item_is_tried_again_after_a_backoff() -> None:
    opened, open_stream = script(ProviderUnavailable("llm", "503"), ["a", "b"])
    items = [item async for item in retry_before_first(open_stream, RetryPolicy(base_s=1.0))]
    assert items == ["a", "b"]
    assert 0.5 <= opened[1] - opened[0] <= 1.0, "half to all of the base backoff (jitter)"


async def test_retry_after_is_honoured_up_to_the_longest_wait() -> None:
    opened, open_stream = script(RateLimited("llm", "slow down", retry_after_s=3.0), ["ok"])
    assert [i async for i in retry_before_first(open_stream, RetryPolicy(base_s=0.1, max_s=4))] == ["ok"]
    assert opened[1] - opened[0] == pytest.approx(3.0)


async def test_the_last_failure_is_raised_after_the_attempts() -> None:
    failures = [RateLimited("llm", f"try {n}") for n in range(3)]
    opened, open_stream = script(*failures)
    with pytest.raises(RateLimited, match="try 2"):
        async for _ in retry_before_first(open_stream, RetryPolicy(attempts=3)):
            pass
    assert len(opened) == 3


async def test_errors_that_are_not_retryable_are_raised_at_once() -> None:
    opened, open_stream = script(ProviderError("llm", "bad request"), ["never"])
    with pytest.raises(ProviderError, match="bad request"):
        async for _ in retry_before_first(open_stream, RetryPolicy()):
            pass
    assert len(opened) == 1


async def test_a_failure_after_the_first_item_is_never_retried() -> None:
    async def breaks() -> AsyncIterator[str]:
        yield "first"
        raise ProviderUnavailable("llm", "dropped")

    opened = []

    def open_stream() -> AsyncIterator[str]:
        opened.append(1)
        return breaks()

    received = []
    with pytest.raises(ProviderUnavailable):
        async for item in retry_before_first(open_stream, RetryPolicy()):
            received.append(item)
    assert received == ["first"] and opened == [1]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_s=0.25, max_s=1.0)
    error = ProviderUnavailable("tts", "503")
    assert [policy.delay_s(n, error, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [0.25, 0.5, 1.0, 1.0]
    assert policy.delay_s(1, error, rand=lambda: 0.0) == 0.125
