"""The Realtime codec: client JSON -> (type, event_id, body), server events -> JSON text.

Decoding never raises: anything a client sends becomes a client event or a `Rejected` value
with the `error` to answer (its `event_id` included where the client gave one). Every server
event gets a unique `event_id`.
"""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

CLIENT_TYPES = frozenset({
    "session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
    "conversation.item.create", "conversation.item.retrieve", "conversation.item.delete",
    "conversation.item.truncate", "response.create", "response.cancel",
})  # fmt: skip


@dataclass(frozen=True)
class ClientEvent:
    type: str
    event_id: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    code: str
    message: str
    event_id: str | None = None
    param: str | None = None
    kind: str = "invalid_request_error"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode(raw: str) -> ClientEvent | Rejected:
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return Rejected("invalid_json", "The message is not valid JSON")
    if not isinstance(data, dict):
        return Rejected("invalid_json", "The message must be a JSON object")
    event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        shown = kind if isinstance(kind, str) else None
        return Rejected("invalid_value", f"Invalid value: {shown!r}. Supported values are: {sorted(CLIENT_TYPES)}",
                        event_id, "type")  # fmt: skip
    return ClientEvent(kind, event_id, data)


class Encoder:
    """JSON text for server events, each with an event_id unique to the connection."""

    def __init__(self) -> None:
        self._prefix = f"event_{secrets.token_hex(4)}"
        self._count = itertools.count(1)

    def encode(self, event: dict[str, Any]) -> str:
        return json.dumps({"event_id": f"{self._prefix}{next(self._count):x}", **event}, separators=(",", ":"))

    def error(self, rejected: Rejected) -> str:
        return self.encode({"type": "error", "error": {
            "type": rejected.kind, "code": rejected.code, "message": rejected.message, "param": rejected.param,
            "event_id": rejected.event_id,
        }})  # fmt: skip
