"""The server starts the two documented ways and reports its health."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, deadline_s: float = 20) -> dict[str, object]:
    end = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                data: dict[str, object] = json.loads(response.read())
                return data
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("how", ["python app.py", "uvicorn app:app"])
def test_server_starts_and_reports_health(how: str) -> None:
    port = free_port()
    env = {**os.environ, "ASR_PROVIDER": "mock", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "PORT": str(port)}
    command = (
        [sys.executable, "app.py"]
        if how == "python app.py"
        else [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)]
    )
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = get_json(f"http://127.0.0.1:{port}/healthz")
        assert health["status"] == "ok"
        assert health["providers"] == {"asr": "mock", "llm": "mock", "tts": "mock"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
            assert b"Parley" in page.read()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_unknown_provider_fails_at_start_up_with_a_clear_message() -> None:
    env = {**os.environ, "LLM_PROVIDER": "nonesuch", "PORT": str(free_port())}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode != 0
    assert "LLM_PROVIDER='nonesuch' is not one of ['local', 'mock']" in result.stderr


def test_health_says_starting_then_why_loading_failed() -> None:
    from fastapi.testclient import TestClient

    from app import create_app
    from tests.conftest import make_config

    config = make_config(llm_provider="local", local_llm_model_path="/nonexistent/model.gguf")
    app = create_app(config.server, config.providers, env_file=None)
    with TestClient(app) as client:
        end = time.monotonic() + 30
        while (response := client.get("/healthz")).json()["status"] == "starting" and time.monotonic() < end:
            assert response.status_code == 503
            time.sleep(0.05)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "failed" and body["ready"] is False
        assert "no GGUF model at '/nonexistent/model.gguf'" in body["error"]
