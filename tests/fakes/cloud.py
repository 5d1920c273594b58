"""The fake cloud: OpenAI's and MiniMax's HTTP APIs on 127.0.0.1, served by uvicorn on a
thread of its own for the whole test run, so any test (and any server process it starts)
can point a provider at it. Tests queue behaviours and read the calls it received."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from tests.fakes.behaviour import Script
from tests.fakes.minimax_fake import MiniMaxFake
from tests.fakes.openai_fake import OpenAIFake

OPENAI_KEY = "sk-fake-0123456789abcdefSECRET"
MINIMAX_KEY = "mm-fake-0123456789SECRET"
MINIMAX_GROUP = "group-fake-1"


class FakeCloud:
    def __init__(self) -> None:
        self.script = Script()
        self.openai = OpenAIFake(self.script, OPENAI_KEY)
        self.minimax = MiniMaxFake(self.script, MINIMAX_KEY, MINIMAX_GROUP)
        app = FastAPI()
        app.mount("/minimax", self.minimax.app)
        app.mount("/", self.openai.app)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-cloud", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, str]:
        """Settings that point every cloud provider at this fake (as `make_config` keys)."""
        return {
            "openai_base_url": f"{self.url}/v1", "openai_api_key": OPENAI_KEY,
            "azure_openai_endpoint": self.url, "azure_openai_api_key": OPENAI_KEY,
            "azure_openai_deployment": "fake-deployment",
            "minimax_base_url": f"{self.url}/minimax/v1/t2a_v2", "minimax_api_key": MINIMAX_KEY,
            "minimax_group_id": MINIMAX_GROUP,
        }  # fmt: skip

    def start(self) -> FakeCloud:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake cloud did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


_running: FakeCloud | None = None


def running_cloud() -> FakeCloud:
    """The test run's fake cloud, started on first use (tests/conftest.py stops it at the end)."""
    global _running
    if _running is None:
        _running = FakeCloud().start()
    return _running


def stop_cloud() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None
