"""OpenTelemetry traces per turn: with OTLP_TRACES_ENDPOINT set, each turn reaches a collector
(a local fake of OTLP/HTTP) as a `turn` span with a child per stage of its `metrics` message,
placed where those figures say; a collector that is down costs a bounded shutdown, nothing else."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from engine import events as ev
from server.tracing import TracingSettings, TurnTracer
from tests.client import Client
from tests.conftest import StartServer
from tests.process import free_port

VALUES: dict[str, float | None] = {"final_transcript_ms": 300.0, "llm_first_token_ms": 420.0,
    "first_sentence_ms": 500.0, "tts_first_byte_ms": 560.0, "first_audio_sent_ms": 565.0}  # fmt: skip


class Collector:
    """OTLP/HTTP on loopback: keeps the spans of every export request it gets."""

    def __init__(self) -> None:
        spans: list[Any] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = ExportTraceServiceRequest()
                request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
                spans.extend(s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.spans = spans
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_port}/v1/traces"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def named(self, name: str) -> list[Any]:
        return [span for span in self.spans if span.name == name]

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.close()


async def test_a_turn_is_a_span_with_a_child_for_each_stage_where_its_figures_put_it(collector: Collector) -> None:
    tracer = TurnTracer(TracingSettings(_env_file=None, otlp_traces_endpoint=collector.url), {"llm": "mock"})
    tracer.trace_turn(ev.TurnMetrics(3, VALUES, interrupted=True, origin_s=10.0), now_s=12.0)  # the reply ended 2 s on
    assert await asyncio.to_thread(tracer.flush, 5.0)
    (turn,) = collector.named("turn")
    attributes = {a.key: a.value for a in turn.attributes}
    assert attributes["parley.turn_id"].int_value == 3 and attributes["parley.interrupted"].bool_value
    assert attributes["parley.provider.llm"].string_value == "mock"
    assert turn.end_time_unix_nano - turn.start_time_unix_nano == 2_000_000_000
    stages = {name: collector.named(name)[0] for name in ("asr", "llm", "tts", "playout")}
    assert all(span.parent_span_id == turn.span_id and span.trace_id == turn.trace_id for span in stages.values())
    start = turn.start_time_unix_nano
    placed = {name: ((span.start_time_unix_nano - start) // 1_000_000, (span.end_time_unix_nano - start) // 1_000_000)
              for name, span in stages.items()}  # fmt: skip
    assert placed == {"asr": (0, 300), "llm": (300, 420), "tts": (500, 560), "playout": (565, 2000)}
    await tracer.aclose()


async def test_a_stage_the_turn_never_reached_has_no_span(collector: Collector) -> None:
    tracer = TurnTracer(TracingSettings(_env_file=None, otlp_traces_endpoint=collector.url), {})
    values = {**VALUES, "tts_first_byte_ms": None, "first_audio_sent_ms": None}  # cut before any audio
    tracer.trace_turn(ev.TurnMetrics(1, values, interrupted=True, origin_s=0.0), now_s=0.6)
    assert await asyncio.to_thread(tracer.flush, 5.0)
    assert sorted(span.name for span in collector.spans) == ["asr", "llm", "turn"]
    await tracer.aclose()


async def test_a_collector_that_is_down_costs_a_bounded_shutdown_and_nothing_else() -> None:
    settings = TracingSettings(_env_file=None, otlp_traces_endpoint=f"http://127.0.0.1:{free_port()}/v1/traces",
                               otlp_timeout_s=0.5)  # fmt: skip
    tracer = TurnTracer(settings, {})
    tracer.trace_turn(ev.TurnMetrics(1, VALUES, interrupted=False, origin_s=0.0), now_s=1.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await tracer.aclose()
    assert loop.time() - began <= settings.otlp_timeout_s + 1.5, "bounded by the export timeout"


async def test_the_server_traces_each_turn_when_an_endpoint_is_set(
    start_server: StartServer, collector: Collector
) -> None:
    server = await start_server(otlp_traces_endpoint=collector.url)
    client = await Client.connect(server.url)
    await client.send("text_input", text="hello there")
    metrics = await client.wait_for("metrics", turn_id=1, timeout=20)
    await client.close()
    await server.stop()  # shutting down exports what is left
    (turn,) = collector.named("turn")
    llm = collector.named("llm")[0]
    assert llm.parent_span_id == turn.span_id
    measured_ms = (llm.end_time_unix_nano - turn.start_time_unix_nano) / 1e6
    assert measured_ms == pytest.approx(metrics["llm_first_token_ms"], abs=1.0)


@pytest.mark.parametrize("endpoint", ["localhost:4318", "grpc://collector:4317"])
def test_an_endpoint_that_is_not_an_http_url_is_a_clear_configuration_error(endpoint: str) -> None:
    with pytest.raises(ValueError, match="OTLP_TRACES_ENDPOINT must be an http"):
        TracingSettings(_env_file=None, otlp_traces_endpoint=endpoint)
