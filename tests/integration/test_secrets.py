"""Secrets never leave the server: not in what a client is sent, not in /healthz, not in the logs,
even when a service echoes a key back in its error."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.openai.settings import OpenAISettings
from services.secrets import MASK, RedactingFilter, Redactor, short_hash
from tests.client import Client
from tests.fakes.behaviour import Behaviour
from tests.fakes.cloud import OPENAI_KEY, FakeCloud
from tests.integration.test_app import free_port, get_json

ROOT = Path(__file__).resolve().parents[2]


def test_the_redactor_masks_configured_secrets_and_key_shapes_in_text_and_logs() -> None:
    redactor = Redactor()
    redactor.add_settings([OpenAISettings(_env_file=None, api_key=SecretStr("plain-secret-value"))])
    assert redactor("the key plain-secret-value failed") == f"the key {MASK} failed"
    assert redactor("Incorrect API key provided: sk-proj-abcdefghijk.") == f"Incorrect API key provided: {MASK}."
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "call with %s", ("plain-secret-value",), None)
    try:
        raise RuntimeError("boom plain-secret-value")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    RedactingFilter(redactor).filter(record)
    assert "plain-secret-value" not in record.getMessage() and "boom" in record.getMessage()


async def test_a_key_echoed_by_a_service_reaches_no_client_no_health_check_and_no_log(cloud: FakeCloud) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "debug", "ASR_PROVIDER": "mock", "TTS_PROVIDER": "mock",
           "LLM_PROVIDER": "openai", "OPENAI_BASE_URL": f"{cloud.url}/v1", "OPENAI_API_KEY": OPENAI_KEY}  # fmt: skip
    echo = {"message": f"Your request with key {OPENAI_KEY} was malformed", "type": "invalid_request_error"}
    cloud.script.queue("chat", Behaviour(status=400, error_body=echo))
    server = await asyncio.create_subprocess_exec(sys.executable, "app.py", cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        health = await asyncio.to_thread(get_json, f"http://127.0.0.1:{port}/healthz")
        client = await Client.connect(f"ws://127.0.0.1:{port}/ws")
        await client.send("text_input", text="hello")
        error = await client.wait_for("error", timeout=20)
        assert error["code"] == "provider_failed" and "rejected the request (400)" in error["message"]
        await client.send("text_input", text="hello again")  # the next turn works, and logs its request
        await client.wait_for("tts_end", timeout=20)
        await client.close()
        health_after = await asyncio.to_thread(get_json, f"http://127.0.0.1:{port}/healthz")
    finally:
        server.terminate()
        async with asyncio.timeout(20):
            logs = (await server.communicate())[1].decode()
    sent = json.dumps(client.events)
    for place, text in {"client": sent, "/healthz": json.dumps([health, health_after]), "log": logs}.items():
        assert OPENAI_KEY not in text, f"the key reached the {place}"
    assert MASK in sent and "HTTP Request" in logs, "the error was said, and the log was at debug"


def test_session_ids_and_tokens_in_query_strings_never_reach_the_log() -> None:
    redactor = Redactor()
    line = '127.0.0.1:5000 - "WebSocket /ws?session_id=0123456789abcdef0123456789abcdef&token=abc.def" [accepted]'
    cleaned = redactor(line)
    assert "0123456789abcdef0123456789abcdef" not in cleaned and "abc.def" not in cleaned
    assert f"session_id={short_hash('0123456789abcdef0123456789abcdef')}" in cleaned, "still correlates"
    assert "token=[redacted]" in cleaned
    export = redactor('127.0.0.1:5000 - "DELETE /v1/sessions/0123456789abcdef0123456789abcdef HTTP/1.1" 204')
    assert f"/v1/sessions/{short_hash('0123456789abcdef0123456789abcdef')} HTTP/1.1" in export


def test_a_clients_invalid_utf8_is_one_warning_line_without_a_traceback() -> None:
    from server.logs import ClientNoise

    try:
        b"\xff".decode()
    except UnicodeDecodeError:
        record = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Invalid UTF-8 sequence received from client.", None,
            sys.exc_info(),
        )  # fmt: skip
    assert ClientNoise().filter(record)
    assert record.levelno == logging.WARNING and record.exc_info is None and "1007" in record.getMessage()


def test_an_access_line_is_logged_redacted_and_without_a_logging_error(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn logs each request on `uvicorn.access` with its parts as arguments; the redactor
    folds them into the message, and the line still prints (not a "Logging error" traceback)."""
    from server.logs import log_config

    logging.config.dictConfig(log_config("info"))
    try:
        access = logging.getLogger("uvicorn.access")
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/metrics?token=abc.def", "1.1", 200)
        for handler in access.handlers:
            handler.flush()
    finally:
        logging.config.dictConfig(log_config("warning"))
    captured = capsys.readouterr()
    logged = captured.err + captured.out
    assert "Logging error" not in logged and "Traceback" not in logged
    assert 'GET /metrics?token=[redacted] HTTP/1.1" 200' in logged and "abc.def" not in logged
