"""What providers share across sessions in one process: HTTP clients and SDK configs.

Each session gets its own provider objects (services/registry.py), but opening a TLS
connection per session would be slow and wasteful, so clients live here, created once per
key and closed, bounded, when the server stops.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from utils.aio import bounded

T = TypeVar("T")


class SharedResources:
    def __init__(self) -> None:
        self._items: dict[Hashable, Any] = {}

    def get(self, key: Hashable, create: Callable[[], T]) -> T:
        """The resource for `key`, created on first use."""
        if key not in self._items:
            self._items[key] = create()
        item: T = self._items[key]
        return item

    async def aclose(self, timeout_s: float = 2.0) -> None:
        items, self._items = list(self._items.values()), {}
        for item in items:
            close = getattr(item, "aclose", None) or getattr(item, "close", None)
            if close is not None:
                result = close()
                if hasattr(result, "__await__"):
                    await bounded(result, timeout_s, f"closing {type(item).__name__}")
