"""Smart Turn v3.2 as the engine runs it: read from the pipecat-ai wheel without importing
Pipecat, fed the same features as Pipecat computes, and deciding on real speech."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import threading
import wave
from importlib.metadata import distribution
from pathlib import Path

import numpy as np
import pytest

from engine.options import MODEL_BURST_S
from engine.turns import smart_turn
from engine.turns.end_of_turn import ModelBusy
from engine.turns.log_mel import last_window, log_mel
from utils.rates import TokenBucket

CORPUS = Path(__file__).parent.parent / "data" / "pause_corpus"
QUIET_200_MS = bytes(6400)


def corpus(name: str) -> tuple[bytes, dict[str, object]]:
    entry = next(e for e in json.loads((CORPUS / "manifest.json").read_text()) if e["file"] == name)
    with wave.open(str(CORPUS / name)) as wav:
        return wav.readframes(wav.getnframes()), entry


def test_the_features_are_pipecats() -> None:
    path = distribution("pipecat-ai").locate_file("pipecat/audio/turn/smart_turn/_whisper_features.py")
    spec = importlib.util.spec_from_file_location("pipecat_whisper_features", str(path))
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)  # numpy only: Pipecat itself is never imported
    audio = last_window(np.random.default_rng(7).standard_normal(16000 * 3).astype(np.float32) * 0.1)
    np.testing.assert_allclose(log_mel(audio), reference.compute_whisper_log_mel_features(audio), atol=1e-6)
    assert "pipecat" not in sys.modules


def test_a_sentence_that_goes_on_sounds_unfinished_and_its_end_finished() -> None:
    pcm, entry = corpus("pause-16.wav")  # "If it rains tomorrow | we should stay at home."
    before_the_pause = pcm[: int(entry["pause_at_ms"]) * 32]  # type: ignore[call-overload]
    assert smart_turn.probability_now(before_the_pause + QUIET_200_MS) < 0.5
    assert smart_turn.probability_now(pcm + QUIET_200_MS) >= 0.5


async def test_inference_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    pcm, _ = corpus("pause-00.wav")
    seen: list[str] = []
    original = smart_turn.probability_now

    def spy(audio: bytes) -> float:
        seen.append(threading.current_thread().name)
        return original(audio)

    monkeypatch.setattr(smart_turn, "probability_now", spy)
    probability = await asyncio.wait_for(smart_turn.SmartTurn().probability(pcm + QUIET_200_MS), 10)
    assert 0.5 <= probability <= 1 and seen and seen[0].startswith("smart-turn")


async def test_the_model_takes_pauses_within_its_cpu_budget_and_refuses_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each pause is charged what an inference costs; beyond the budget's burst the model refuses
    (the words decide) rather than queue, and it hears pauses again as the budget refills."""
    cost_s, share = 0.1, 0.5
    now = [0.0]
    monkeypatch.setattr(smart_turn, "_cost_s", cost_s)
    monkeypatch.setattr(smart_turn, "probability_now", lambda pcm: 0.9)
    model = smart_turn.SmartTurn(TokenBucket(share, MODEL_BURST_S, lambda: now[0]))
    heard_at_once = int(MODEL_BURST_S / cost_s)
    for _ in range(heard_at_once):
        assert await model.probability(QUIET_200_MS) == 0.9
    with pytest.raises(ModelBusy):
        await model.probability(QUIET_200_MS)
    now[0] += cost_s / share  # the budget has refilled one inference
    assert await model.probability(QUIET_200_MS) == 0.9
    with pytest.raises(ModelBusy):
        await model.probability(QUIET_200_MS)


def test_an_inference_is_timed_where_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smart_turn, "_cost_s", 10.0)
    smart_turn.probability_now(QUIET_200_MS)
    assert 0 < smart_turn.cost_s() < 10.0, "the measured cost pulls the estimate towards it"


def test_the_models_thread_yields_the_core_to_the_event_loop() -> None:
    """On a full core the audio path runs first: the model's thread has a lower priority."""
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread niceness is Linux's")
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    model = smart_turn._threads().submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(10)
    assert model == min(19, own + smart_turn.MODEL_NICENESS)


def test_a_budget_over_one_core_has_a_thread_per_core() -> None:
    assert smart_turn.SmartTurn(TokenBucket(2.5, 0.25))._threads._max_workers == 3
    assert smart_turn.SmartTurn(TokenBucket(0.5, 0.25))._threads._max_workers == 1
