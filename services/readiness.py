"""Start-up readiness: engines load and warm up in the background while the server
already answers, and /healthz says when they are done (or why they failed)."""

from __future__ import annotations

import asyncio
import logging
import time

from config import Settings
from services import registry

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self) -> None:
        self.status = "starting"  # starting | ok | failed
        self.error: str | None = None
        self.warm_up_s: float | None = None
        self.done = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.status == "ok"

    async def warm_up(self, settings: Settings) -> None:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(registry.warm_up, settings)  # model loads block; keep them off the loop
        except Exception as error:
            self.status, self.error = "failed", f"{type(error).__name__}: {error}"
            log.error("warm-up failed: %s", self.error)
        else:
            self.status = "ok"
            self.warm_up_s = round(time.perf_counter() - started, 3)
            log.info("engines ready in %.2f s", self.warm_up_s)
        finally:
            self.done.set()
