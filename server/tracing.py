"""OpenTelemetry traces per turn, exported over OTLP/HTTP when `OTLP_TRACES_ENDPOINT` is set.

A turn is one span from the end of the user's speech to the end of the reply, with a child for
each stage the `metrics` message measures: ASR (end of speech -> final transcript), LLM (final
-> first token), TTS (first sentence -> first audio byte) and playout (first audio sent -> the
reply's end). The spans are made when the reply ends, from the turn's own timings, so nothing is
done on the audio path; the SDK's batch processor exports them from its own thread, each export
bounded by `OTLP_TIMEOUT_S`, and shutdown is bounded too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping

from pydantic import Field, field_validator

from config import EnvSettings
from engine import events as ev

log = logging.getLogger(__name__)
# child spans: (name, the stage it starts at (None: the end of speech), the stage it ends at (None: the reply's end))
STAGE_SPANS = (
    ("asr", None, "final_transcript_ms"),
    ("llm", "final_transcript_ms", "llm_first_token_ms"),
    ("tts", "first_sentence_ms", "tts_first_byte_ms"),
    ("playout", "first_audio_sent_ms", None),
)


class TracingSettings(EnvSettings):
    """Traces of each turn to an OpenTelemetry collector (optional; off when no endpoint is set)."""

    otlp_traces_endpoint: str = Field(
        "", description="OTLP/HTTP traces URL (e.g. http://localhost:4318/v1/traces); empty: no traces."
    )
    otlp_timeout_s: float = Field(5.0, gt=0, le=60, description="Longest wait for one export to the collector.")
    otlp_service_name: str = Field("parley", description="The service.name the spans carry.")

    @field_validator("otlp_traces_endpoint")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("OTLP_TRACES_ENDPOINT must be an http:// or https:// URL (OTLP/HTTP), or empty")
        return url


class TurnTracer:
    """Turns traced into OTLP spans; `observe` sees every engine event (audio frames cost one check)."""

    def __init__(self, settings: TracingSettings, providers: Mapping[str, str]) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self._timeout_s = settings.otlp_timeout_s
        exporter = OTLPSpanExporter(endpoint=settings.otlp_traces_endpoint, timeout=settings.otlp_timeout_s)
        self._provider = TracerProvider(resource=Resource.create({"service.name": settings.otlp_service_name}))
        self._provider.add_span_processor(BatchSpanProcessor(exporter, export_timeout_millis=self._timeout_s * 1000))
        self._tracer = self._provider.get_tracer("parley")
        self._attributes = {f"parley.provider.{kind}": name for kind, name in providers.items()}

    def observe(self, event: ev.Event) -> None:
        if isinstance(event, ev.TurnMetrics):
            self.trace_turn(event, asyncio.get_running_loop().time())

    def trace_turn(self, metrics: ev.TurnMetrics, now_s: float) -> None:
        """The turn's spans, placed on the wall clock: `now_s` is the loop time of the reply's end."""
        from opentelemetry import trace

        end_ns = time.time_ns()
        wall_ns = end_ns - round((now_s - metrics.origin_s) * 1e9)  # the end of speech, on the wall clock

        def at(stage: str | None) -> int | None:
            if stage is None:
                return wall_ns
            ms = metrics.values.get(stage)
            return None if ms is None else wall_ns + round(ms * 1e6)

        turn = self._tracer.start_span("turn", start_time=wall_ns, attributes={
            **self._attributes, "parley.turn_id": metrics.turn_id, "parley.interrupted": metrics.interrupted,
            **{f"parley.{stage}": ms for stage, ms in metrics.values.items() if ms is not None},
        })  # fmt: skip
        context = trace.set_span_in_context(turn)
        for name, begins, ends in STAGE_SPANS:
            start, end = at(begins), end_ns if ends is None else at(ends)
            if start is not None and end is not None:
                self._tracer.start_span(name, context=context, start_time=start).end(end_time=max(start, end))
        turn.end(end_time=end_ns)

    def flush(self, timeout_s: float) -> bool:
        return self._provider.force_flush(round(timeout_s * 1000))

    async def aclose(self) -> None:
        """Export what is left and stop the exporter's thread; bounded even if the collector hangs."""
        closing = threading.Thread(target=self._provider.shutdown, name="otlp-shutdown", daemon=True)
        closing.start()
        await asyncio.to_thread(closing.join, self._timeout_s + 1.0)
        if closing.is_alive():
            log.warning("the OTLP exporter did not shut down within %.1f s; spans left unsent", self._timeout_s + 1)


def turn_tracer(settings: TracingSettings, providers: Mapping[str, str]) -> TurnTracer | None:
    return TurnTracer(settings, providers) if settings.otlp_traces_endpoint else None
