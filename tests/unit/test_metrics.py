"""/metrics: engine events on their way to the router become Prometheus series."""

from __future__ import annotations

import numpy as np

from engine import events as ev
from engine.options import EngineBudgets
from engine.turns.silero import WINDOW, SileroStream
from server.metrics import ObservedSink, ServerMetrics
from utils.rates import TokenBucket


class Router:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)

    def clear_audio(self, turn_id: int) -> int:
        return 3


def sample(metrics: ServerMetrics, line_start: str) -> float:
    for line in metrics.render().decode().splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {line_start}")


def test_events_are_counted_and_still_reach_the_router() -> None:
    metrics = ServerMetrics({"asr": "mock", "llm": "openai", "tts": "azure"}, lambda: 4, lambda: 2)
    router = Router()
    sink = ObservedSink(router, metrics.observe)
    values: dict[str, float | None] = {
        "final_transcript_ms": 650.0, "llm_first_token_ms": 900.0, "first_sentence_ms": 1000.0,
        "tts_first_byte_ms": 1150.0, "first_audio_sent_ms": 1160.0,
    }  # fmt: skip
    script: list[ev.Event] = [
        ev.AudioOut(1, 0, b"\0\0"),
        ev.TurnMetrics(1, values, interrupted=False),
        ev.SpeechStop(1, "barge_in", 800.0, after_speech_ms=180.0),
        ev.SpeechStop(2, "text_input", 100.0),
        ev.SpeechPause(3, 400.0, after_speech_ms=64.0),
        ev.SpeechResume(3, 400.0),
        ev.ErrorEvent("rate_limited", "slow down", 3, 2.0, stage="llm"),
        ev.ErrorEvent("bad_json", "not JSON"),
    ]
    for event in script:
        sink.emit(event)
    assert router.events == script and sink.clear_audio(1) == 3
    assert sample(metrics, 'parley_turn_stage_seconds_sum{stage="first_audio_sent_ms"}') == 1.16
    assert sample(metrics, 'parley_provider_latency_seconds_sum{kind="llm",provider="openai"}') == 0.25
    assert sample(metrics, 'parley_provider_latency_seconds_sum{kind="tts",provider="azure"}') == 0.15
    assert sample(metrics, 'parley_provider_latency_seconds_sum{kind="asr",provider="mock"}') == 0.65
    assert sample(metrics, "parley_barge_in_seconds_count") == 1
    assert sample(metrics, 'parley_barge_in_seconds_bucket{le="0.2"}') == 1
    assert sample(metrics, 'parley_interruptions_total{reason="barge_in"}') == 1
    assert sample(metrics, 'parley_interruptions_total{reason="text_input"}') == 1
    assert (
        sample(metrics, 'parley_pause_seconds_bucket{le="0.1"}') == 1 and sample(metrics, "parley_resumes_total") == 1
    )
    assert sample(metrics, 'parley_errors_total{code="rate_limited"}') == 1
    assert sample(metrics, 'parley_errors_total{code="bad_json"}') == 1
    assert sample(metrics, 'parley_provider_failures_total{code="rate_limited",kind="llm",provider="openai"}') == 1
    assert (sample(metrics, "parley_sessions"), sample(metrics, "parley_connections")) == (4, 2)


def test_the_pauses_the_model_was_too_busy_to_hear_are_counted_from_its_budget() -> None:
    budget = TokenBucket(0.5, 0.1, clock=lambda: 0.0)
    metrics = ServerMetrics({}, lambda: 0, lambda: 0, EngineBudgets(turn_end_model=budget))
    assert sample(metrics, "parley_turn_end_model_refused_total") == 0
    assert budget.take(0.1) and not budget.take(0.1) and not budget.take(0.1)
    assert sample(metrics, "parley_turn_end_model_refused_total") == 2


async def test_silero_windows_and_the_inferences_that_ran_them_are_counted() -> None:
    budgets = EngineBudgets()
    metrics = ServerMetrics({}, lambda: 0, lambda: 0, budgets)
    window = np.zeros(WINDOW, dtype=np.float32)
    requests = [budgets.silero.submit(SileroStream(), [window, window]) for _ in range(3)]
    for request in requests:
        await request.done
    assert sample(metrics, "parley_vad_windows_total") == 6 and sample(metrics, "parley_vad_inferences_total") == 2
