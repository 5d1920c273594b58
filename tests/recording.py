"""An EventSink that records events with the loop time they were emitted at."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from engine import events as ev


@dataclass
class RecordingSink:
    events: list[tuple[float, ev.Event]] = field(default_factory=list)
    cleared: list[tuple[int, int]] = field(default_factory=list)  # (turn_id, frames dropped)

    def emit(self, event: ev.Event) -> None:
        self.events.append((asyncio.get_running_loop().time(), event))

    def clear_audio(self, turn_id: int) -> int:
        self.cleared.append((turn_id, 0))
        return 0

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, kind)]

    def timed(self, kind: type[Any]) -> list[tuple[float, Any]]:
        return [(t, e) for t, e in self.events if isinstance(e, kind)]

    def names(self) -> list[str]:
        return [type(e).__name__ for _, e in self.events if not isinstance(e, ev.AudioOut)]
