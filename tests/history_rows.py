"""A session's history as plain rows, for compact assertions: role, content (what was said or
heard), turn id, and whether the reply was cut short."""

from __future__ import annotations

from typing import Any

from engine.history import AssistantMessage, UserMessage
from session import Session


def history_rows(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in session.history.items:
        if isinstance(item, UserMessage):
            rows.append({"role": "user", "content": item.text, "turn_id": item.turn_id, "interrupted": False})
        elif isinstance(item, AssistantMessage):
            cut = item.status != "completed"
            rows.append({"role": "assistant", "content": item.heard_text, "turn_id": item.turn_id, "interrupted": cut})
    return rows
