"""Whether the providers can take turns at all. While they are loading, turns wait for them;
once loading has failed, the engine refuses turns with the reason instead of failing each one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

ServiceState = Literal["starting", "ready", "failed"]
SERVICE_STATES: tuple[ServiceState, ...] = ("starting", "ready", "failed")


class Availability(Protocol):
    @property
    def state(self) -> ServiceState: ...

    @property
    def reason(self) -> str | None:
        """Why the service failed, for people (None unless failed)."""

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` on the event loop after each change; returns the function that stops it."""


class AlwaysReady:
    """For tests and tools that drive a Conversation on providers they built themselves."""

    state: ServiceState = "ready"
    reason: str | None = None

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        return lambda: None
