"""REST over stored sessions: list them, export one as JSON, delete one.

Behind the same admission as /ws: a browser's Origin must be allowed (ALLOWED_ORIGINS; the
page's own by default), and where a token is required each call needs one (Authorization:
Bearer); the Host check applies as to every route. No CORS is granted. A session id is the key to a conversation:
these routes are for its owner's backend and operators, never for a public page.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from server.wiring import Server
from storage.base import SessionRecord
from websocket.admission import Handshake, origin_allowed
from websocket.close_codes import CLOSE_DELETED
from websocket.connection import Connection

MAX_LISTED = 1000


def export(record: SessionRecord) -> dict[str, Any]:
    """A session as JSON: settings, items (with their timings), the summary and what it replaced, notes."""
    summarized = set(record.summary["item_ids"]) if record.summary else set()
    return {
        "id": record.id, "archived": record.archived, "created_at": record.created_at,
        "updated_at": record.updated_at, "last_turn_id": record.last_turn_id, "settings": record.settings,
        "summary": record.summary, "notepad": record.notepad,
        "items": [{**item, "summarized": item["id"] in summarized} for item in record.items],
    }  # fmt: skip


def add_session_routes(app: FastAPI, server: Server) -> None:
    policy = server.connections.admission.policy

    def refused(request: Request) -> Response | None:
        """/ws's admission rules (Host is checked for every route): the Origin, then the token."""
        scheme = "wss" if request.url.scheme == "https" else "ws"
        handshake = Handshake.read("", scheme, request.headers, {}, ())
        if not origin_allowed(handshake, policy.allowed_origins):
            return JSONResponse({"error": f"origin {handshake.origin!r} is not allowed"}, status_code=403)
        if policy.tokens is not None and not policy.tokens.valid(handshake.token):
            return JSONResponse({"error": "present a token as Authorization: Bearer"}, status_code=401)
        return None

    @app.get("/v1/sessions")
    async def list_sessions(
        request: Request, limit: int = Query(100, ge=1, le=MAX_LISTED), offset: int = Query(0, ge=0)
    ) -> Response:
        """Stored sessions, the most recently updated first (ids, times, item counts)."""
        if (refusal := refused(request)) is not None:
            return refusal
        listed = await server.sessions.store.list_sessions(limit, offset)
        return JSONResponse({"sessions": [info.__dict__ for info in listed], "limit": limit, "offset": offset})

    @app.get("/v1/sessions/{session_id}")
    async def export_session(request: Request, session_id: str) -> Response:
        """One session as JSON (its writes so far flushed first, so the export is current)."""
        if (refusal := refused(request)) is not None:
            return refusal
        await server.sessions.writer.drain(2.0)
        record = await server.sessions.store.load(session_id)
        if record is None:
            return JSONResponse({"error": "no such session"}, status_code=404)
        return JSONResponse(export(record), headers={"cache-control": "no-store"})

    @app.delete("/v1/sessions/{session_id}")
    async def delete_session(request: Request, session_id: str) -> Response:
        """Delete a session and its history; a connection attached to it is closed (4003)."""
        if (refusal := refused(request)) is not None:
            return refusal
        existed, connection = await server.sessions.delete(session_id)
        if isinstance(connection, Connection):
            connection.request_close(CLOSE_DELETED, "the session was deleted")
        return Response(status_code=204) if existed else JSONResponse({"error": "no such session"}, status_code=404)
