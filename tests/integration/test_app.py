"""The server starts the two documented ways and reports its health."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BROKEN_GGUF

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


def start_and_read_first_line(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """The server's first line on stdout: what a person starting it is told (stderr has the logs)."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


@pytest.mark.parametrize("how", ["python app.py", "uvicorn app:app"])
def test_server_starts_says_where_to_go_and_reports_health(how: str) -> None:
    port = free_port()
    env = {**os.environ, "ASR_PROVIDER": "mock", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "PORT": str(port)}
    command = [sys.executable, "app.py"]
    if how == "uvicorn app:app":  # uvicorn binds where its options say; PORT is not its setting
        command, env["PORT"] = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)], "1"
    process, line = start_and_read_first_line(command, env)
    try:
        assert re.fullmatch(rf"parley: ready in \d+\.\d s - open http://127\.0\.0\.1:{port}/", line), line
        health = get_json(f"http://127.0.0.1:{port}/healthz")
        assert health["status"] == "ok"
        assert health["providers"] == {"asr": "mock", "llm": "mock", "tts": "mock"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
            assert b"Parley" in page.read()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_engine_that_fails_to_load_is_named_and_the_server_stays_up_to_show_it() -> None:
    port = free_port()
    env = {**os.environ, "ASR_PROVIDER": "mock", "LLM_PROVIDER": "local", "TTS_PROVIDER": "mock", "PORT": str(port),
           "LOCAL_LLM_MODEL_PATH": BROKEN_GGUF}  # fmt: skip
    process, line = start_and_read_first_line([sys.executable, "app.py"], env)
    try:
        assert line.startswith(f"parley: started, but The language model could not load: the GGUF model at "
                               f"{BROKEN_GGUF!r} could not be loaded")  # fmt: skip
        assert line.endswith(f". - open http://127.0.0.1:{port}/"), line
        with pytest.raises(urllib.error.HTTPError) as unavailable:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert unavailable.value.code == 503 and json.loads(unavailable.value.read())["status"] == "failed"
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
        ({"PORT": "70000"}, "parley: PORT='70000': Input should be less than or equal to 65535"),
        (
            {"LLM_PROVIDER": "local", "LOCAL_LLM_MODEL_PATH": "/models/missing.gguf"},
            "parley: LOCAL_LLM_MODEL_PATH='/models/missing.gguf': no such GGUF file",
        ),
        (
            {"LLM_PROVIDER": "local", "LOCAL_LLM_RUNTIME": "vllm"},
            "parley: LOCAL_LLM_RUNTIME='vllm': Input should be 'ik_llama' or 'llama_cpp_python'",
        ),
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

    config = make_config(llm_provider="local", local_llm_model_path=BROKEN_GGUF)
    app = create_app(config.server, config.providers, env_file=None)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        end = time.monotonic() + 30
        while (response := client.get("/healthz")).json()["status"] == "starting" and time.monotonic() < end:
            assert response.status_code == 503
            time.sleep(0.05)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "failed" and body["ready"] is False
        assert body["error"].startswith(f"The language model could not load: the GGUF model at {BROKEN_GGUF!r}")
