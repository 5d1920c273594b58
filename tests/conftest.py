"""Shared fixtures: settings for fast mock providers, and a real server on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from app import create_app
from config import Settings
from services import registry
from session import Session, SessionManager

FAST_MOCKS: dict[str, Any] = {
    "asr_provider": "mock",
    "llm_provider": "mock",
    "tts_provider": "mock",
    "mock_asr_final_delay_ms": 10,
    "mock_llm_first_token_ms": 20,
    "mock_llm_token_ms": 2,
    "mock_llm_sentences": 2,
    "mock_tts_first_byte_ms": 10,
    "mock_tts_ms_per_char": 12,
    "mock_tts_rtf": 0.02,
}


def make_settings(**overrides: Any) -> Settings:
    """Settings from code alone (no .env, no environment surprises) with fast mocks."""
    return Settings(_env_file=None, **{**FAST_MOCKS, **overrides})


LOCAL: dict[str, Any] = {"asr_provider": "local", "llm_provider": "local", "tts_provider": "local"}


def local_settings(**overrides: Any) -> Settings:
    """Settings that select the offline engines."""
    return make_settings(**{**LOCAL, **overrides})


@pytest.fixture(scope="session")
def warm_engines() -> Settings:
    """Load and warm every local engine once for the whole test run."""
    settings = local_settings()
    registry.warm_up(settings)
    return settings


@dataclass
class RunningServer:
    url: str
    app: FastAPI
    server: uvicorn.Server

    @property
    def sessions(self) -> SessionManager:
        sessions: SessionManager = self.app.state.sessions
        return sessions

    @property
    def http_url(self) -> str:
        return self.url.replace("ws://", "http://").removesuffix("/ws")

    def session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        assert session is not None, f"no session {session_id}"
        return session


StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start a real uvicorn server in this event loop: `await start_server(**setting_overrides)`."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> RunningServer:
        settings = make_settings(**overrides)
        app = create_app(settings)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ws_max_size=settings.ws_max_message_bytes,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        running.append((server, task))
        async with asyncio.timeout(120):
            while not server.started:
                await asyncio.sleep(0.01)
            await app.state.readiness.done.wait()
        assert app.state.readiness.ready, app.state.readiness.error
        port = server.servers[0].sockets[0].getsockname()[1]
        return RunningServer(f"ws://127.0.0.1:{port}/ws", app, server)

    yield start
    for server, task in running:
        server.should_exit = True
        await asyncio.wait([task], timeout=10)
