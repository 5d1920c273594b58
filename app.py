"""Parley's server: the FastAPI app, its routes, and `python app.py` to run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from config import Settings, get_settings
from services import registry
from services.readiness import Readiness
from session import SessionConfig, SessionManager
from websocket.handler import Connection
from websocket.protocol import PROTOCOL_VERSION

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    registry.validate(settings)
    sessions = SessionManager(
        SessionConfig(settings.input_sample_rate, settings.language, settings.system_prompt, settings.voice),
        max_messages=settings.history_max_messages,
        max_sessions=settings.max_sessions,
        idle_timeout_s=settings.session_idle_timeout_s,
    )

    readiness = Readiness()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        reaper = asyncio.create_task(sessions.run_reaper(), name="session-reaper")
        warm_up = asyncio.create_task(readiness.warm_up(settings), name="warm-up")
        try:
            yield
        finally:
            reaper.cancel()
            warm_up.cancel()  # a model still loading finishes in its thread, unawaited
            await asyncio.wait([reaper, warm_up], timeout=1.0)

    app = FastAPI(title="Parley", lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = sessions

    app.state.readiness = readiness

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """200 once every engine is loaded and warmed up; 503 while loading, or if loading failed."""
        body = {
            "status": readiness.status,
            "ready": readiness.ready,
            "warm_up_s": readiness.warm_up_s,
            "error": readiness.error,
            "protocol_version": PROTOCOL_VERSION,
            "providers": {
                "asr": settings.asr_provider,
                "llm": settings.llm_provider,
                "tts": settings.tts_provider,
            },
            "sessions": len(sessions),
        }
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.websocket("/ws")
    async def conversation(websocket: WebSocket) -> None:
        await Connection(websocket, sessions, settings).run()

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=settings.ws_ping_interval_s,
        ws_ping_timeout=settings.ws_ping_timeout_s,
    )


def __getattr__(name: str) -> FastAPI:
    """`uvicorn app:app` builds the app on first access, so importing app.py stays cheap."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)


if __name__ == "__main__":
    main()
