"""Start-up readiness: engines load and warm up in the background while the server
already answers; /healthz says when they are done (or why they failed), and every
conversation is told (it satisfies engine/availability.py's Availability)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal

from services.errors import ProviderError

log = logging.getLogger(__name__)
ReadinessStatus = Literal["starting", "ok", "failed"]
_STATES: dict[ReadinessStatus, Literal["starting", "ready", "failed"]] = {
    "starting": "starting", "ok": "ready", "failed": "failed",
}  # fmt: skip


STAGES = {"asr": "Speech recognition", "llm": "The language model", "tts": "Speech synthesis"}


def describe(error: Exception) -> str:
    """A failed load, for the person who has to fix it: which engine, and why."""
    if isinstance(error, ProviderError):
        return f"{STAGES.get(error.stage, error.stage)} could not load: {error.message}"
    return f"{type(error).__name__}: {error}"


class Readiness:
    def __init__(self) -> None:
        self.status: ReadinessStatus = "starting"
        self.error: str | None = None
        self.warm_up_s: float | None = None
        self.done = asyncio.Event()
        self._watchers: list[Callable[[], None]] = []

    @property
    def ready(self) -> bool:
        return self.status == "ok"

    @property
    def state(self) -> Literal["starting", "ready", "failed"]:
        return _STATES[self.status]

    @property
    def reason(self) -> str | None:
        return self.error

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback) if callback in self._watchers else None

    async def warm_up(self, steps: Sequence[Callable[[], None]]) -> None:
        """Run each blocking step in turn on a thread (model loads must not block the loop)."""
        started = time.perf_counter()
        try:
            for step in steps:
                await asyncio.to_thread(step)
        except Exception as error:
            self.status, self.error = "failed", describe(error)
            log.error("warm-up failed: %s", self.error)
        else:
            self.status = "ok"
            self.warm_up_s = round(time.perf_counter() - started, 3)
            log.info("engines ready in %.2f s", self.warm_up_s)
        finally:
            self.done.set()
            for watcher in list(self._watchers):
                watcher()
