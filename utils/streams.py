"""Per-step timeouts for provider streams.

A whole-stream timeout cuts long answers short (a fault of the server Parley descends
from); here the first item and every gap between items are bounded separately.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

from services.errors import ProviderTimeout

T = TypeVar("T")


async def with_step_timeouts(
    source: AsyncIterator[T], *, stage: str, first_s: float, idle_s: float
) -> AsyncIterator[T]:
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
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await aclose()
