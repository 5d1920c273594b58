"""Prometheus metrics (`/metrics`): what an operator watches of a voice server in production.

Per-turn latency of each stage of the `metrics` message, barge-in and pause latency,
interruptions by reason, resumed pauses, errors by code, provider latency and failures by
provider, sessions and connections, event-loop lag, and the pauses the end-of-turn model was
too busy to hear. Fed by observing engine events on their way to the protocol router
(`ObservedSink`), so every protocol counts alike. One registry per server (tests build many).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from engine import events as ev
from engine.options import EngineBudgets

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
LAG_PROBE_S = 0.1
# the stage of the turn that each provider's latency is read from: (stage, the stage it follows)
PROVIDER_STAGES = {
    "asr": ("final_transcript_ms", None),
    "llm": ("llm_first_token_ms", "final_transcript_ms"),
    "tts": ("tts_first_byte_ms", "first_sentence_ms"),
}


class ServerMetrics:
    def __init__(
        self, providers: Mapping[str, str], sessions: Callable[[], int], connections: Callable[[], int],
        budgets: EngineBudgets | None = None,
    ) -> None:  # fmt: skip
        self.registry = registry = CollectorRegistry()
        self._providers = dict(providers)
        self.stage = Histogram("parley_turn_stage_seconds", "Time from the end of the user's speech to each stage "
                               "of a turn.", ["stage"], buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
        self.barge_in = Histogram("parley_barge_in_seconds", "From the onset of the user's speech to the cut of "
                                  "the reply it interrupted.", buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
        self.interruptions = Counter("parley_interruptions_total", "Replies cut, by reason.", ["reason"],
                                     registry=registry)  # fmt: skip
        self.pause = Histogram("parley_pause_seconds", "From the onset of the user's speech to the pause of the "
                               "reply it talked over.", buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
        self.resumes = Counter("parley_resumes_total", "Paused replies that went on (the speech was not an "
                               "interruption).", registry=registry)  # fmt: skip
        self.errors = Counter("parley_errors_total", "Error messages sent, by code.", ["code"], registry=registry)
        self.provider_latency = Histogram("parley_provider_latency_seconds", "Provider time to first result in a "
                                          "turn (ASR: end of speech to final).", ["kind", "provider"],
                                          buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
        self.provider_failures = Counter("parley_provider_failures_total", "Provider calls that failed, by "
                                         "provider and error code.", ["kind", "provider", "code"],
                                         registry=registry)  # fmt: skip
        self.loop_lag = Histogram("parley_event_loop_lag_seconds", f"How late a {LAG_PROBE_S} s timer fires on "
                                  "the event loop.", buckets=LAG_BUCKETS, registry=registry)  # fmt: skip
        Gauge("parley_sessions", "Sessions held (connected or awaiting a reconnect).",
              registry=registry).set_function(sessions)  # fmt: skip
        Gauge("parley_connections", "WebSocket connections open.", registry=registry).set_function(connections)
        if budgets is not None:
            self._count_budgets(budgets)

    def _count_budgets(self, budgets: EngineBudgets) -> None:
        """Counters the engine's process-wide budgets keep, read when Prometheus scrapes."""
        model, silero = budgets.turn_end_model, budgets.silero
        for name, documentation, read in (
            ("parley_turn_end_model_refused", "Pauses the end-of-turn model was too busy to hear (over "
             "TURN_END_MODEL_CPU_SHARE): their words decided.", lambda: model.refused),
            ("parley_vad_windows", "Silero windows run batched across sessions.", lambda: silero.windows),
            ("parley_vad_inferences", "Inferences that ran them (windows / inferences: the mean batch).",
             lambda: silero.inferences),
        ):  # fmt: skip
            self.registry.register(CountedElsewhere(name, documentation, read))

    def observe(self, event: ev.Event) -> None:
        """Count one engine event; audio frames (most events) cost one isinstance check."""
        if isinstance(event, ev.AudioOut):
            return
        if isinstance(event, ev.TurnMetrics):
            self._turn(event.values)
        elif isinstance(event, ev.SpeechStop):
            self.interruptions.labels(event.reason).inc()
            if event.after_speech_ms is not None:
                self.barge_in.observe(event.after_speech_ms / 1000)
        elif isinstance(event, ev.SpeechPause) and event.after_speech_ms is not None:
            self.pause.observe(event.after_speech_ms / 1000)
        elif isinstance(event, ev.SpeechResume):
            self.resumes.inc()
        elif isinstance(event, ev.ErrorEvent):
            self.errors.labels(event.code).inc()
            if event.stage in self._providers:
                self.provider_failures.labels(event.stage, self._providers[event.stage], event.code).inc()

    def _turn(self, values: Mapping[str, float | None]) -> None:
        for stage, ms in values.items():
            if ms is not None:
                self.stage.labels(stage).observe(ms / 1000)
        for kind, (stage, after) in PROVIDER_STAGES.items():
            end, begin = values.get(stage), values.get(after) if after else 0.0
            if end is not None and begin is not None and kind in self._providers:
                self.provider_latency.labels(kind, self._providers[kind]).observe(max(0.0, end - begin) / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def watch_loop_lag(self) -> None:
        """Runs for the server's life: the event loop's lateness, sampled every LAG_PROBE_S."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            self.loop_lag.observe(max(0.0, loop.time() - due))


class ObservedSink:
    """An engine event sink that counts each event (and traces turns, when traces are on), then
    hands it to the protocol's router."""

    def __init__(self, sink: ev.EventSink, *observers: Callable[[ev.Event], None]) -> None:
        self._sink, self._observers = sink, observers

    def emit(self, event: ev.Event) -> None:
        for observe in self._observers:
            observe(event)
        self._sink.emit(event)

    def clear_audio(self, turn_id: int) -> int:
        return self._sink.clear_audio(turn_id)


class CountedElsewhere(Collector):
    """A counter kept by its owner (a budget's refusals), read when Prometheus scrapes."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        self._name, self._documentation, self._read = name, documentation, read

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(self._name, self._documentation, value=self._read())
