"""Smart Turn v3.2 (Daily, BSD-2-Clause): does this audio sound like a finished turn?

A Whisper-tiny-sized encoder with a classifier head (8.7 MB ONNX, int8) that hears the last
8 s of the user's speech, intonation and pace included, and returns the probability that
the user has finished. The model file ships inside the pipecat-ai wheel, installed with
--no-deps from requirements-models.txt; it is read from there without importing Pipecat.

One ONNX session for the process, run on threads of its own (one per core of its budget) so
a 30-50 ms inference never blocks the event loop; on Linux they run at a lower priority
(MODEL_NICENESS), so on a full core the event loop (audio, barge-in) runs first and the model
takes what is left. Its CPU is a process-wide budget (TURN_END_MODEL_CPU_SHARE): each pause is
charged the measured (wall) time of an inference, and one beyond the budget is refused
(ModelBusy) rather than queued, so under load turns are decided a little later by their words
instead of every turn waiting behind the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import numpy as np

from engine.turns.end_of_turn import ModelBusy
from engine.turns.log_mel import last_window, log_mel
from utils.rates import TokenBucket

MODEL_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
_lock = threading.Lock()
_model: Any = None
_executors: dict[int, ThreadPoolExecutor] = {}  # by thread count
MODEL_NICENESS = 10  # added to the thread's niceness: about a tenth of a core the event loop wants whole
_cost_s = 0.05  # one inference, as last measured (an exponential average; a first guess until then)


def model_path() -> Path:
    try:
        path = Path(str(distribution("pipecat-ai").locate_file(MODEL_FILE)))
    except PackageNotFoundError as error:
        raise RuntimeError("Smart Turn needs the pipecat-ai wheel (requirements-models.txt)") from error
    if not path.is_file():
        raise RuntimeError(f"the Smart Turn model is missing from the pipecat-ai wheel: {path}")
    return path


def _session() -> Any:
    """The process's ONNX session, loaded on first use (on the model's thread, or at warm-up)."""
    global _model
    with _lock:
        if _model is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            _model = onnxruntime.InferenceSession(
                str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
            )
        return _model


def _threads(count: int = 1) -> ThreadPoolExecutor:
    """The model's own threads (made on first use; making them loads nothing): one per core of
    its budget, so a budget over one core can be spent."""
    with _lock:
        if count not in _executors:
            _executors[count] = ThreadPoolExecutor(count, "smart-turn", initializer=_yield_to_the_loop)
        return _executors[count]


def _yield_to_the_loop() -> None:
    """On the model's thread: lower its priority (Linux niceness is per thread). An inference
    slowed by a busy core is measured slower, so the budget then admits fewer pauses."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted: run as is
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + MODEL_NICENESS))


def load() -> None:
    """Load the model and run it once now (at start-up): the first inference of a session costs
    several times a warm one, and the first turn should not wait for it."""
    probability_now(bytes(16000 * 2))


def probability_now(pcm16k: bytes) -> float:
    """P(the turn is complete) for 16 kHz PCM16 speech ending now; runs on the calling thread."""
    global _cost_s
    session = _session()
    began = time.perf_counter()
    audio = np.frombuffer(pcm16k, dtype=np.int16).astype(np.float32) / 32768.0
    features = log_mel(last_window(audio))[None, :, :]
    output = session.run(None, {"input_features": features})
    _cost_s = 0.8 * _cost_s + 0.2 * (time.perf_counter() - began)
    return float(np.asarray(output[0]).reshape(-1)[0])


def cost_s() -> float:
    """What one inference costs on this machine, as measured."""
    return _cost_s


class SmartTurn:
    """The end-of-turn model of the engine: `await probability(pcm16k)` off the event loop,
    within `budget` (seconds of inference per second for the process; None: unbounded)."""

    name = "smart_turn"

    def __init__(self, budget: TokenBucket | None = None) -> None:
        self._budget = budget
        self._threads = _threads(1 if budget is None else max(1, math.ceil(budget.rate)))

    async def probability(self, pcm16k: bytes) -> float:
        """Computed on the model's thread (which loads the model there if warm-up has not)."""
        if self._budget is not None and not self._budget.take(_cost_s):
            raise ModelBusy(f"over {self._budget.rate:g} s of inference per second")
        return await asyncio.get_running_loop().run_in_executor(self._threads, probability_now, pcm16k)
