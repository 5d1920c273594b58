"""What a session remembers beside its items: the running summary of older turns, and the
notepad its tools write. Both persist with the session; every change is told to followers
(the session store), as history's operations are."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Summary:
    """The LLM's summary of older turns, and the ids of the items it stands for (they stay in
    history, for the export; the LLM sees the summary in their place)."""

    text: str
    item_ids: tuple[str, ...]
    updated_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "item_ids": list(self.item_ids), "updated_at": self.updated_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        return cls(data["text"], tuple(data["item_ids"]), data.get("updated_at", 0.0))


MemoryFollower = Callable[["Memory"], None]


class Memory:
    def __init__(self, summary: Summary | None = None, notepad: list[str] | None = None) -> None:
        self.summary = summary
        self._notepad = list(notepad or ())
        self._followers: list[MemoryFollower] = []

    def follow(self, follower: MemoryFollower) -> None:
        self._followers.append(follower)

    def notes(self) -> list[str]:
        return list(self._notepad)

    def add_note(self, text: str) -> None:
        self._notepad.append(text)
        self._tell()

    def set_summary(self, summary: Summary | None) -> None:
        self.summary = summary
        self._tell()

    def clear(self) -> None:
        self.summary, self._notepad = None, []
        self._tell()

    def _tell(self) -> None:
        for follower in list(self._followers):
            follower(self)
