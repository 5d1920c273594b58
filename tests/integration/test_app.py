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


def run_server(how: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "app.py"] if how == "python app.py" else [sys.executable, "-m", "uvicorn", "app:app"]
    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, "PORT": str(free_port()), **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("how", ["python app.py", "uvicorn app:app"])
@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"LLM_PROVIDER": "nonesuch"},
            "parley: LLM_PROVIDER='nonesuch' is not one of ['azure_openai', 'local', 'mock', 'openai']",
        ),
        ({"PORT": "abc"}, "parley: PORT='abc': Input should be a valid integer, unable to parse string as an integer"),
        ({"LLM_PROVIDER": "openai", "OPENAI_API_KEY": ""}, "parley: OPENAI_API_KEY is required to use OpenAI"),
        (
            {"TTS_PROVIDER": "azure", "AZURE_SPEECH_KEY": "k" * 32},
            "parley: AZURE_SPEECH_REGION (or _ENDPOINT or _HOST)",
        ),
        ({"TTS_PROVIDER": "minimax"}, "parley: MINIMAX_API_KEY is required for TTS_PROVIDER=minimax"),
    ],
)
def test_a_configuration_mistake_stops_the_server_with_one_clear_line(how: str, env: dict[str, str], line: str) -> None:
    result = run_server(how, {"ASR_PROVIDER": "mock", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", **env})
    assert result.returncode == 2
    assert line in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_a_misspelled_variable_is_warned_about(tmp_path: Path) -> None:
    env = {"ASR_PROVIDER": "mock", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "TTS_PROVDER": "mock",
           "LLM_PROVIDER_X": "1", "PORT": "abc"}  # fmt: skip
    result = run_server("python app.py", env)
    assert "TTS_PROVDER in the environment is not a Parley setting; did you mean TTS_PROVIDER?" in result.stderr


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
