"""The routes: the page, /healthz, short-lived tokens, and the WebSocket of each protocol."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

from server.wiring import Server
from websocket.admission import Handshake
from websocket.connection import Connection
from websocket.parley.messages import PROTOCOL_VERSION

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def process_figures() -> dict[str, float]:
    """What an operator (and the leak tests) watch: tasks, threads, open files, resident memory."""
    rss_pages = int(Path("/proc/self/statm").read_text().split()[1]) if Path("/proc/self/statm").exists() else 0
    return {
        "tasks": len(asyncio.all_tasks()), "threads": threading.active_count(),
        "open_fds": len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else -1,
        "rss_mb": round(rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1),
    }  # fmt: skip


def bearer(request: Request) -> str | None:
    return Handshake.read("", "", request.headers, {}, ()).token


def add_routes(app: FastAPI, server: Server) -> None:
    readiness, tokens = server.readiness, server.tokens

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        """200 once every engine is loaded and warmed up; 503 while loading, or if loading failed.
        Where a token is required, the details (providers, sessions, the error) need one too."""
        authorized = tokens is None or tokens.valid(bearer(request))
        body: dict[str, object] = {
            "status": readiness.status, "ready": readiness.ready, "protocol_version": PROTOCOL_VERSION,
            "auth_required": tokens is not None, "authorized": authorized,
        }  # fmt: skip
        if authorized:
            body |= {"warm_up_s": readiness.warm_up_s, "error": readiness.error, "sessions": len(server.sessions),
                     "providers": dict(server.providers.names), "process": process_figures()}  # fmt: skip
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Prometheus metrics; where a token is required, scraping needs one too (Authorization: Bearer)."""
        if tokens is not None and not tokens.valid(bearer(request)):
            return JSONResponse({"error": "present a token as Authorization: Bearer"}, status_code=401)
        return Response(server.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/access")
    async def access(request: Request) -> JSONResponse:
        """Whether /ws needs a token, and whether the one presented (Authorization: Bearer) is good."""
        return JSONResponse({"auth_required": tokens is not None,
                             "authorized": tokens is None or tokens.valid(bearer(request))})  # fmt: skip

    @app.post("/v1/tokens")
    async def mint_token(request: Request) -> Response:
        """A short-lived token for a browser, in exchange for the shared secret (a backend calls this)."""
        if tokens is None:
            return JSONResponse({"error": "this server requires no token"}, status_code=404)
        presented = bearer(request)
        if presented is None or not tokens.is_secret(presented):
            return JSONResponse({"error": "present AUTH_TOKEN as Authorization: Bearer"}, status_code=401)
        token, expires_at = tokens.mint()
        return JSONResponse({"token": token, "expires_at": expires_at}, headers={"cache-control": "no-store"})

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    add_socket_routes(app, server)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def add_socket_routes(app: FastAPI, server: Server) -> None:
    """One WebSocket route per protocol, over the same connection and engine."""

    @app.websocket("/ws")
    async def conversation(websocket: WebSocket) -> None:
        await Connection(websocket, server.connections, server.parley).run()

    @app.websocket("/v1/realtime")
    async def realtime(websocket: WebSocket) -> None:
        """The OpenAI Realtime protocol (GA) over the same engine (REALTIME.md)."""
        await Connection(websocket, server.connections, server.realtime).run()
