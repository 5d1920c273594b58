"""Start-up readiness: engines load and warm up in the background while the server
already answers, and /healthz says when they are done (or why they failed)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal

log = logging.getLogger(__name__)
ReadinessStatus = Literal["starting", "ok", "failed"]


class Readiness:
    def __init__(self) -> None:
        self.status: ReadinessStatus = "starting"
        self.error: str | None = None
        self.warm_up_s: float | None = None
        self.done = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.status == "ok"

    async def warm_up(self, steps: Sequence[Callable[[], None]]) -> None:
        """Run each blocking step in turn on a thread (model loads must not block the loop)."""
        started = time.perf_counter()
        try:
            for step in steps:
                await asyncio.to_thread(step)
        except Exception as error:
            self.status, self.error = "failed", f"{type(error).__name__}: {error}"
            log.error("warm-up failed: %s", self.error)
        else:
            self.status = "ok"
            self.warm_up_s = round(time.perf_counter() - started, 3)
            log.info("engines ready in %.2f s", self.warm_up_s)
        finally:
            self.done.set()
