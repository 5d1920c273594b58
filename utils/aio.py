"""Owning tasks: cancel and wait with a bound, and bounded awaits that never hang a close.

Every task in Parley has an owner that ends it with `cancel_and_wait`; every close step
that talks to something that may be gone (a socket, a subprocess, an SDK) goes through
`bounded`. Both log what outlived its bound instead of waiting for ever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]], timeout_s: float) -> bool:
    """Cancel `tasks` and wait for them at most `timeout_s`; True when all have ended.

    Failures of the tasks are retrieved here (logged at debug), so none is reported later as
    "never retrieved". A task that outlives the bound is logged as an error and left.
    """
    futures = list(tasks)
    for future in futures:
        future.cancel()
    if not futures:
        return True
    done, pending = await asyncio.wait(futures, timeout=timeout_s)
    for future in done:
        if not future.cancelled() and (error := future.exception()) is not None:
            log.debug("%s ended with %r", _name(future), error)
    for future in pending:
        log.error("%s did not stop within %.1f s", _name(future), timeout_s)
    return not pending


async def bounded(awaitable: Awaitable[T], timeout_s: float, what: str) -> T | None:
    """Await `awaitable` for at most `timeout_s`; None (and a debug line) on timeout or failure.

    For close steps only: their failure must not stop the rest of a close.
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await awaitable
    except TimeoutError:
        log.debug("%s: no answer within %.1f s", what, timeout_s)
    except Exception as error:
        log.debug("%s failed: %r", what, error)
    return None


def _name(future: asyncio.Future[Any]) -> str:
    return future.get_name() if isinstance(future, asyncio.Task) else repr(future)
