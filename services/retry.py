"""Retrying a provider stream, only before its first item.

A stream that failed before producing anything can be tried again at no cost to the user;
once an item (a token, an audio chunk) has gone out, a retry would repeat it, so later
errors pass through. Only retryable errors are retried (rate limits, 5xx, connection
failures: `ProviderError.retryable`), with exponential backoff and full jitter, and never
sooner than the service's own Retry-After.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from services.errors import ProviderError
from utils.aio import bounded

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries in all, the first included
    base_s: float = 0.25  # the backoff before the second try; doubled for each later one
    max_s: float = 4.0  # no single wait is longer, whatever Retry-After says

    def delay_s(self, attempt: int, error: ProviderError, rand: Callable[[], float] = random.random) -> float:
        """The wait after failed try number `attempt` (1-based)."""
        backoff = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + 0.5 * rand())  # full jitter over the upper half
        return float(min(self.max_s, max(jittered, error.retry_after_s or 0.0)))


async def retry_before_first(
    open_stream: Callable[[], AsyncIterator[T]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[T]:
    """Items of `open_stream()`, opening it again after a retryable failure before its first item."""
    for attempt in range(1, policy.attempts + 1):
        stream = open_stream()
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return
        except ProviderError as error:
            await _close(stream)
            if not error.retryable or attempt == policy.attempts:
                raise
            delay = policy.delay_s(attempt, error)
            log.info("%s; try %d of %d in %.2f s", error, attempt + 1, policy.attempts, delay)
            await sleep(delay)
            continue
        try:
            yield first
            async for item in stream:
                yield item
        finally:
            await _close(stream)
        return


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if given."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (ValueError, TypeError):
        return None


async def _close(stream: AsyncIterator[T]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await bounded(aclose(), 1.0, "provider stream close")
