"""Silero batched across sessions decides exactly what it decides one session at a time.

Scripted in: several sessions at once, each a different mix of speech, noise and silence in
20 ms frames, every session's frame taken in the same turn of the event loop (as frames
arriving together are). Out: each frame's decision, against the same audio through an
unbatched gate; how many inferences the batch needed; what a reset, a closed loop or a
failing model do to the sessions waiting.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from engine.turns import silero_batch
from engine.turns.detector import FRAME_BYTES, VAD_RATE
from engine.turns.silero import WINDOW, SileroStream
from engine.turns.silero_batch import SileroBatcher
from engine.turns.speech_gate import SpeechGate
from tests.client import load_speech
from tests.unit.test_speech_gate import pcm, white_noise


def sessions_audio() -> list[bytes]:
    """Four callers: speech, speech in noise, noise then speech, speech after silence."""
    ocean, noise = load_speech("ocean", VAD_RATE), pcm(white_noise(-30, 3, seed=4))
    mixed = pcm(np.frombuffer(ocean, "<i2").astype(np.float64) + white_noise(-35, len(ocean) / 2 / VAD_RATE, seed=5))
    audio = [ocean + bytes(16000), mixed, noise + ocean, bytes(24000) + ocean]
    longest = max(len(a) for a in audio)
    return [a + bytes(longest - len(a)) for a in audio]


def frames(audio: bytes) -> list[bytes]:
    return [audio[i : i + FRAME_BYTES] for i in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES)]


def unbatched_decisions(audio: bytes) -> list[bool]:
    gate = SpeechGate(aggressiveness=2, confirm="silero", threshold=0.5)
    decisions = [gate(frame) for frame in frames(audio)]
    gate.close()
    return decisions


async def batched_decisions(audios: list[bytes], batcher: SileroBatcher) -> list[list[bool]]:
    gates = [SpeechGate(aggressiveness=2, confirm="silero", threshold=0.5, batcher=batcher) for _ in audios]
    decisions: list[list[bool]] = [[] for _ in audios]
    for step in zip(*(frames(audio) for audio in audios), strict=True):  # one frame of every session per turn
        verdicts = await asyncio.gather(*(gate.classify(frame) for gate, frame in zip(gates, step, strict=True)))
        for index, verdict in enumerate(verdicts):
            decisions[index].append(verdict)
    for gate in gates:
        gate.close()
    return decisions


async def test_batched_decisions_are_the_unbatched_ones_for_every_session() -> None:
    audios, batcher = sessions_audio(), SileroBatcher()
    batched = await batched_decisions(audios, batcher)
    for audio, decisions in zip(audios, batched, strict=True):
        assert decisions == unbatched_decisions(audio)
        assert any(decisions) and not all(decisions)
    assert batcher.inferences < 0.7 * batcher.windows, "sessions awake together share inferences"


async def test_a_session_speaking_alone_runs_its_windows_at_once_and_batching_starts_with_company() -> None:
    audio, batcher = sessions_audio()[0], SileroBatcher()
    alone = await batched_decisions([audio], batcher)
    assert alone == [unbatched_decisions(audio)] and batcher.windows == 0  # nothing waited
    assert batcher.typical < batcher.min_batch
    await batched_decisions(sessions_audio(), batcher)  # four at once: they wait, from a few frames in
    assert batcher.windows > 0


async def test_a_batch_probability_is_the_single_stream_probability() -> None:
    rng = np.random.default_rng(1)
    windows = [rng.normal(0, 0.1, WINDOW).astype(np.float32) for _ in range(6)]
    alone, together = SileroStream(), [SileroStream() for _ in range(3)]
    expected = [alone.probability(w) for w in windows]
    batcher = SileroBatcher(max_batch=2)  # three streams: two inferences a round
    requests = [batcher.submit(stream, windows) for stream in together]
    for request in requests:
        assert await request.done == pytest.approx(expected, abs=1e-5)
    assert (batcher.inferences, batcher.windows) == (12, 18)


@pytest.mark.parametrize("turns", [1, 2], ids=["before its batch ran", "after it ran, before the session resumed"])
async def test_a_session_reset_while_its_windows_wait_keeps_the_reset(turns: int) -> None:
    gate = SpeechGate(aggressiveness=2, confirm="silero", threshold=0.5, batcher=SileroBatcher(min_batch=0))
    speech = frames(load_speech("ocean", VAD_RATE))
    index = 40
    for frame in speech[:index]:
        await gate.classify(frame)
    assert gate._silero is not None and gate._silero.speaking
    while len(gate._silero._pending) + FRAME_BYTES // 2 < WINDOW:  # the next frame must complete a window
        await gate.classify(speech[index])
        index += 1
    waiting = asyncio.ensure_future(gate.classify(speech[index]))
    for _ in range(turns):
        await asyncio.sleep(0)
    gate.reset()
    assert await asyncio.wait_for(waiting, 5) is False  # the waiting frame ends; the reset holds
    assert gate._silero.speaking is False
    gate.close()


async def test_a_failing_model_fails_every_waiting_session_and_the_next_batch_runs(monkeypatch: Any) -> None:
    batcher, stream = SileroBatcher(), SileroStream()
    window = np.zeros(WINDOW, dtype=np.float32)

    def broken(streams: list[SileroStream], windows: list[np.ndarray]) -> list[float]:
        raise RuntimeError("onnxruntime failed")

    monkeypatch.setattr(silero_batch, "probabilities", broken)
    requests = [batcher.submit(stream, [window]), batcher.submit(SileroStream(), [window])]
    for request in requests:
        with pytest.raises(RuntimeError, match="onnxruntime failed"):
            await asyncio.wait_for(request.done, 5)
    monkeypatch.undo()
    assert len(await asyncio.wait_for(batcher.submit(stream, [window]).done, 5)) == 1


def test_a_loop_closed_with_a_flush_due_leaves_the_batcher_working() -> None:
    batcher, window = SileroBatcher(), np.zeros(WINDOW, dtype=np.float32)

    async def queue_only() -> None:
        batcher.submit(SileroStream(), [window])  # the loop ends before its flush

    async def run_one() -> list[float]:
        return await asyncio.wait_for(batcher.submit(SileroStream(), [window]).done, 5)

    asyncio.run(queue_only())
    assert len(asyncio.run(run_one())) == 1
