"""/metrics in production: a real turn shows up in Prometheus' text format, and where a token
is required, scraping needs one too."""

from __future__ import annotations

from tests.client import Client
from tests.conftest import StartServer
from tests.integration.test_admission import SECRET, request


def value(body: bytes, series: str) -> float:
    for line in body.decode().splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} is not in /metrics")


async def test_a_turn_and_a_cut_are_counted(start_server: StartServer) -> None:
    server = await start_server()
    client = await Client.connect(server.url)
    await client.send("text_input", text="hello there")
    await client.wait_for("tts_start")
    await client.send("text_input", text="wait, another thing")  # cuts the first reply
    await client.wait_for("metrics", turn_id=2, timeout=20)
    status, headers, body = await request(server, "GET", "/metrics", {})
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert value(body, 'parley_turn_stage_seconds_count{stage="first_audio_sent_ms"}') == 2
    assert value(body, 'parley_provider_latency_seconds_count{kind="llm",provider="mock"}') == 2
    assert value(body, 'parley_interruptions_total{reason="text_input"}') == 1
    assert value(body, "parley_connections") == 1 and value(body, "parley_sessions") == 1
    assert value(body, "parley_event_loop_lag_seconds_count") >= 1
    await client.close()


async def test_scraping_needs_a_token_where_one_is_required(start_server: StartServer) -> None:
    server = await start_server(auth_token=SECRET)
    assert (await request(server, "GET", "/metrics", {}))[0] == 401
    status, _, body = await request(server, "GET", "/metrics", {"Authorization": f"Bearer {SECRET}"})
    assert status == 200 and value(body, "parley_sessions") == 0
