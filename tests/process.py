"""A Parley server in its own process (`python app.py`), for what only a process shows: its
resident memory, open files and threads, how it answers SIGTERM, and its exit status."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MOCKS = {
    "ASR_PROVIDER": "mock", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "MOCK_ASR_FINAL_DELAY_MS": "10",
    "MOCK_LLM_FIRST_TOKEN_MS": "20", "MOCK_LLM_TOKEN_MS": "2", "MOCK_LLM_SENTENCES": "2",
    "MOCK_TTS_FIRST_BYTE_MS": "10", "MOCK_TTS_MS_PER_CHAR": "12", "VAD_CONFIRM": "silero", "LOG_LEVEL": "warning",
    "SESSION_STORE": "memory",
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def figures(self) -> dict[str, Any]:
        """The server's own view of itself (/healthz: tasks, threads, open files, memory)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
            body: dict[str, Any] = json.loads(response.read())
        return {**body["process"], "sessions": body["sessions"]}

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def spawn(log: Path | None = None, **settings: str) -> tuple[ServerProcess, str]:
    """The server process (its log in `log`), and its first line (the ready line, or why it did not start)."""
    port = free_port()
    env = {**os.environ, **MOCKS, **settings, "PORT": str(port), "HOST": "127.0.0.1"}
    stderr = log.open("w") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    assert process.stdout is not None
    return ServerProcess(process, port), process.stdout.readline()


async def start_process(log: Path | None = None, **settings: str) -> ServerProcess:
    server, line = await asyncio.wait_for(asyncio.to_thread(spawn, log, **settings), timeout=60)
    assert line.startswith("parley: ready"), line
    return server


@pytest.fixture
async def server_process() -> AsyncIterator[Any]:
    """`await server_process(SETTING="value", ...)`: a server process, stopped at the end of the test."""
    started: list[ServerProcess] = []

    async def start(log: Path | None = None, **settings: str) -> ServerProcess:
        server = await start_process(log, **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)
