"""What a fake service does on each call: answer, fail with a status, stall, or drop mid-stream.

A test queues behaviours per endpoint; each call takes the next one (or answers normally).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Behaviour:
    status: int = 200
    retry_after: str | None = None  # Retry-After header of an error answer
    error_body: dict[str, Any] | None = None  # JSON body of an error answer
    first_byte_delay_s: float = 0.0  # wait this long before answering at all
    gap_s: float = 0.0  # wait between streamed pieces
    drop_after: int | None = None  # cut the connection after this many streamed pieces
    error_event_after: int | None = None  # send an SSE error event after this many pieces, then end
    text: str | None = None  # what to say (chat, transcription) instead of the default


@dataclass
class Call:
    endpoint: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any
    started: float
    finished: float | None = None  # when the last piece of the answer was handed to the server to send


@dataclass
class Script:
    queued: dict[str, deque[Behaviour]] = field(default_factory=lambda: defaultdict(deque))
    calls: list[Call] = field(default_factory=list)

    def next(self, endpoint: str) -> Behaviour:
        queue = self.queued[endpoint]
        return queue.popleft() if queue else Behaviour()

    def queue(self, endpoint: str, *behaviours: Behaviour) -> None:
        self.queued[endpoint].extend(behaviours)

    def of(self, endpoint: str) -> list[Call]:
        return [call for call in self.calls if call.endpoint == endpoint]

    def reset(self) -> None:
        self.queued.clear()
        self.calls.clear()
