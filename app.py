"""Parley's server: the FastAPI app, its routes, the wiring, and `python app.py` to run it."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import logging.config
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from config import ConfigError, EnvSettings, Settings, get_settings, unknown_variables
from engine.options import EngineOptions, SessionSettings
from engine.turns import speech_gate
from services.readiness import Readiness
from services.registry import ProviderFactory
from services.secrets import REDACTOR, RedactingFilter
from session import SessionManager
from storage.memory import MemoryStore
from utils.aio import cancel_and_wait
from websocket.connection import Connection, ConnectionLimits, WireProtocol
from websocket.parley.messages import PROTOCOL_VERSION
from websocket.parley.router import parley_protocol

STATIC_DIR = Path(__file__).parent / "static"
SILERO_PRELOAD = 4


@dataclass(frozen=True)
class Server:
    """Everything the routes share, built once per process."""

    settings: Settings
    providers: ProviderFactory
    sessions: SessionManager
    readiness: Readiness
    engine: EngineOptions
    limits: ConnectionLimits
    parley: WireProtocol


def build_server(settings: Settings, provider_settings: Iterable[EnvSettings], env_file: str | None) -> Server:
    """Everything, checked: a chosen provider that cannot work is a ConfigError now, not at the first turn."""
    providers = ProviderFactory(settings, provider_settings, env_file)
    if problems := providers.problems():
        raise ConfigError(problems)
    REDACTOR.add_settings(providers.chosen_settings())
    defaults = SessionSettings(settings.input_sample_rate, settings.language, settings.system_prompt, settings.voice)
    sessions = SessionManager(
        defaults, MemoryStore(), settings.history_max_messages, settings.max_sessions, settings.session_idle_timeout_s
    )
    limits = ConnectionLimits(
        settings.outbound_queue_size, settings.max_messages_per_s, settings.max_errors_per_min, settings.send_timeout_s
    )
    return Server(
        settings, providers, sessions, Readiness(),
        settings.engine_options(), limits, parley_protocol(settings.output_sample_rate, settings.max_text_chars),
    )  # fmt: skip


@contextlib.asynccontextmanager
async def running(server: Server, announce: Address | bool) -> AsyncIterator[None]:
    """The app's lifespan: the store writer, the session reaper, and warm-up in the background."""
    warm_up = [server.providers.warm_up]
    if server.settings.vad_confirm == "silero":
        warm_up.append(lambda: speech_gate.preload(SILERO_PRELOAD))
    server.sessions.start()
    tasks = [
        asyncio.create_task(server.sessions.run_reaper(), name="session-reaper"),
        asyncio.create_task(warm_then_announce(server, warm_up, announce), name="warm-up"),
    ]
    try:
        yield
    finally:
        await cancel_and_wait(tasks, 1.0)  # a model still loading finishes in its thread, unawaited
        await server.sessions.aclose()
        await server.providers.aclose()


Address = tuple[str, int]


async def warm_then_announce(server: Server, steps: list[Callable[[], None]], announce: Address | bool) -> None:
    """Warm the engines up; then, for a person starting the server, one line: ready (or why
    not), and the URL to open when the address is known."""
    readiness = server.readiness
    await readiness.warm_up(steps)
    if announce:
        said = f"ready in {readiness.warm_up_s:.1f} s" if readiness.ready else f"started, but {readiness.error}."
        if isinstance(announce, tuple):
            host, port = announce
            said += f" - open http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"
        print(f"parley: {said}", flush=True)


def uvicorn_cli_address(argv: list[str], env: Mapping[str, str]) -> Address | None:
    """Where `uvicorn app:app [options]` listens: its --host and --port (or UVICORN_HOST and
    UVICORN_PORT), else its defaults; None for a socket it is handed or a port it picks."""
    options = {"--host": env.get("UVICORN_HOST", "127.0.0.1"), "--port": env.get("UVICORN_PORT", "8000")}
    args = iter(argv)
    for arg in args:
        name, equals, value = arg.partition("=")
        if name in ("--uds", "--fd"):
            return None
        if name in options:
            options[name] = value if equals else next(args, "")
    port = int(options["--port"]) if options["--port"].isdigit() else 0
    return (options["--host"], port) if port else None


def create_app(
    settings: Settings | None = None, provider_settings: Iterable[EnvSettings] = (), env_file: str | None = ".env",
    announce: Address | bool = False,
) -> FastAPI:  # fmt: skip
    """The app. Provider settings not given are read from the environment and `env_file`;
    `announce`: print the ready line (with the URL, given the address served)."""
    server = build_server(settings or get_settings(), provider_settings, env_file)
    app = FastAPI(title="Parley", lifespan=lambda _: running(server, announce))
    app.state.settings = server.settings
    app.state.sessions = server.sessions
    app.state.readiness = server.readiness
    add_routes(app, server)
    return app


def add_routes(app: FastAPI, server: Server) -> None:
    readiness = server.readiness

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """200 once every engine is loaded and warmed up; 503 while loading, or if loading failed."""
        body = {
            "status": readiness.status,
            "ready": readiness.ready,
            "warm_up_s": readiness.warm_up_s,
            "error": readiness.error,
            "protocol_version": PROTOCOL_VERSION,
            "providers": dict(server.providers.names),
            "sessions": len(server.sessions),
        }
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.websocket("/ws")
    async def conversation(websocket: WebSocket) -> None:
        await Connection(
            websocket, server.sessions, server.providers, server.engine, server.limits, server.parley, readiness
        ).run()

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


class QuietStartup(logging.Filter):
    """Drops uvicorn's start-up chatter: Parley's own line says when to open which URL."""

    CHATTER = ("Started server process", "Waiting for application startup", "Application startup complete")

    def __init__(self, own_url: bool = True) -> None:
        super().__init__()
        self.chatter = (*self.CHATTER, "Uvicorn running on") if own_url else self.CHATTER

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.chatter)


def log_config(level: str, own_url: bool = True) -> dict[str, Any]:
    """uvicorn's logging, with every record passed through the secret redactor."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    quiet = {"()": QuietStartup, "own_url": own_url}
    config["filters"] = {"redact": {"()": RedactingFilter}, "quiet_startup": quiet}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["loggers"]["uvicorn.error"]["filters"] = ["quiet_startup"]
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    config["loggers"]["faster_whisper"] = {"level": "WARNING"}  # one line per decode otherwise
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(levelprefix)s %(name)s: %(message)s"
    return config


def startup_app(address_of: Callable[[Settings], Address | None]) -> FastAPI:
    """The app from `.env` and the environment, or one line per problem and exit status 2;
    `address_of`: where it will listen, when known (for the URL of the ready line)."""
    logging.config.dictConfig(log_config("info"))
    for warning in unknown_variables(".env", os.environ):  # first: a misspelling may be why what follows fails
        logging.getLogger("parley").warning("%s", warning)
    try:
        settings = get_settings()
        address = address_of(settings)
        logging.config.dictConfig(log_config(settings.log_level, own_url=address is not None))
        return create_app(settings, announce=address or True)
    except ConfigError as error:
        for problem in error.problems:
            print(f"parley: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def main() -> None:
    application = startup_app(lambda settings: (settings.host, settings.port))
    settings = get_settings()
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level.lower(),
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=settings.ws_ping_interval_s,
        ws_ping_timeout=settings.ws_ping_timeout_s,
    )


def __getattr__(name: str) -> FastAPI:
    """`uvicorn app:app` builds the app on first access, so importing app.py stays cheap."""
    if name == "app":  # the bind address is uvicorn's: --host and --port, not HOST and PORT
        application = startup_app(lambda _: uvicorn_cli_address(sys.argv[1:], os.environ))
        globals()["app"] = application
        return application
    raise AttributeError(name)


if __name__ == "__main__":
    main()
