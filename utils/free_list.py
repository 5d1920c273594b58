"""A process-wide free list of costly native objects (decoders, VAD models).

Creating one costs tens to hundreds of ms, so idle ones are kept and lent to one user at
a time; at most `max_idle` are kept, the rest are dropped to the garbage collector.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FreeList(Generic[T]):
    def __init__(self, create: Callable[[], T], max_idle: int, prepare: Callable[[T], None] | None = None) -> None:
        self._create = create
        self._prepare = prepare  # makes a returned object like new (reset its state)
        self._max_idle = max_idle
        self._idle: list[T] = []
        self._lock = threading.Lock()

    def borrow(self) -> T:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._create()

    def give_back(self, item: T) -> None:
        if self._prepare is not None:
            self._prepare(item)
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(item)

    def preload(self, count: int) -> None:
        for item in [self.borrow() for _ in range(count)]:
            self.give_back(item)
