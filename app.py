"""Parley's server: the FastAPI app and `python app.py` to run it (routes, wiring and the rest of the
HTTP server are in server/)."""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from collections.abc import Callable, Iterable, Mapping

import uvicorn
from fastapi import FastAPI

from config import ConfigError, EnvSettings, Settings, get_settings, unknown_variables
from server.http import Guard
from server.logs import log_config
from server.routes import add_routes
from server.sessions_api import add_session_routes
from server.settings import split_list
from server.wiring import Address, build_server, running


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
    """The app. Settings not given are read from the environment and `env_file`;
    `announce`: print the ready line (with the URL, given the address served)."""
    server = build_server(settings or get_settings(), provider_settings, env_file)
    docs = server.security.api_docs
    app = FastAPI(
        title="Parley", lifespan=lambda _: running(server, announce), docs_url="/docs" if docs else None,
        redoc_url=None, openapi_url="/openapi.json" if docs else None,
    )  # fmt: skip
    app.state.settings = server.settings
    app.state.sessions = server.sessions
    app.state.readiness = server.readiness
    app.state.server = server
    add_session_routes(app, server)
    add_routes(app, server)
    app.add_middleware(Guard, allowed_hosts=server.allowed_hosts)
    return app


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
    settings, server = get_settings(), application.state.server
    proxies = split_list(server.security.trusted_proxies)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level.lower(),
        ws_max_size=server.limits.ws_max_message_bytes,
        ws_ping_interval=server.limits.ws_ping_interval_s,
        ws_ping_timeout=server.limits.ws_ping_timeout_s,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
        loop=settings.event_loop,
        http="httptools" if settings.event_loop == "uvloop" else "h11",
        ws_per_message_deflate=settings.ws_compression,
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
