"""Shared fixtures: configuration for fast mock providers, and a real server on a free port.

Tests name any setting by its environment variable in lower case (`mock_llm_sentences=2`,
`vad_end_silence_ms=600`); `make_config` routes each to the settings class that owns it,
with no `.env` and no environment surprises.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from app import create_app
from config import EnvSettings, Settings, settings_classes
from server.settings import LimitSettings
from services.registry import ProviderFactory
from session import Session, SessionManager
from tests.fakes.cloud import FakeCloud, running_cloud, stop_cloud

BROKEN_GGUF = str(Path(__file__).parent / "data" / "broken.gguf")  # a GGUF header, then nothing a model has

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
    "turn_end_model": "none",  # the silence decides (scripted audio means nothing to Smart Turn); tests of the
    # model inject one, or speak real speech
    "session_store": "memory",  # tests of persistence choose sqlite in a temporary directory
    "audio_burst_ms": 120_000,  # tests stream speech up to 8x real time; tests/integration/test_limits.py does not
}
LOCAL: dict[str, Any] = {"asr_provider": "local", "llm_provider": "local", "tts_provider": "local"}


@cache
def _owners() -> dict[str, tuple[type[EnvSettings], str]]:
    """lower-case environment variable -> (settings class, field)."""
    return {cls.env_name(name).lower(): (cls, name) for cls in settings_classes() for name in cls.model_fields}


@dataclass(frozen=True)
class Config:
    server: Settings
    providers: tuple[EnvSettings, ...]

    def factory(self) -> ProviderFactory:
        return ProviderFactory(self.server, self.providers, env_file=None)

    def provider(self, cls: type[Any]) -> Any:
        return next(s for s in self.providers if isinstance(s, cls))


def make_config(**overrides: Any) -> Config:
    """Every settings class built from code alone, with fast mocks unless overridden."""
    values: dict[type[EnvSettings], dict[str, Any]] = {cls: {} for cls in settings_classes()}
    for key, value in {**FAST_MOCKS, **overrides}.items():
        cls, field = _owners()[key]
        values[cls][field] = value
    built = {cls: cls(_env_file=None, **fields) for cls, fields in values.items()}
    server = built.pop(Settings)
    assert isinstance(server, Settings)
    return Config(server, tuple(built.values()))


def local_config(**overrides: Any) -> Config:
    """Configuration that selects the offline engines."""
    return make_config(**{**LOCAL, **overrides})


@pytest.fixture(scope="session", autouse=True)
def _stop_the_fake_cloud() -> Iterator[None]:
    yield
    stop_cloud()


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    """The fake OpenAI and MiniMax services, with no queued behaviour and no calls recorded."""
    fake = running_cloud()
    fake.script.reset()
    yield fake
    fake.script.reset()


@pytest.fixture(scope="session")
def warm_engines() -> Config:
    """Load and warm every local engine once for the whole test run."""
    config = local_config()
    config.factory().warm_up()
    return config


@dataclass
class RunningServer:
    url: str
    app: FastAPI
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Shut the server down, as a restart would."""
        self.server.should_exit = True
        await asyncio.wait([self.task], timeout=10)

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

    async def start(expect_ready: bool = True, **overrides: Any) -> RunningServer:
        config = make_config(**overrides)
        app = create_app(config.server, config.providers, env_file=None)
        uv_config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ws_max_size=config.provider(LimitSettings).ws_max_message_bytes,
            lifespan="on",
        )
        server = uvicorn.Server(uv_config)
        task = asyncio.create_task(server.serve())
        running.append((server, task))
        async with asyncio.timeout(120):
            while not server.started:
                await asyncio.sleep(0.01)
            await app.state.readiness.done.wait()
        assert app.state.readiness.ready or not expect_ready, app.state.readiness.error
        port = server.servers[0].sockets[0].getsockname()[1]
        return RunningServer(f"ws://127.0.0.1:{port}/ws", app, server, task)

    yield start
    for server, task in running:
        server.should_exit = True
        await asyncio.wait([task], timeout=10)
