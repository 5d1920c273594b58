"""Offline-engine benchmark: each local engine alone, then spoken turns through a real
server process on the full local stack (ASR, LLM and TTS all on this machine).

Reports, as p50/p95:
- STT (Whisper tiny.en): real-time factor and word error rate on sentences spoken by the local TTS;
- TTS (hibari): time to first audio and real-time factor per sentence;
- LLM (llama.cpp, SmolLM2): time to first token and tokens per second;
- spoken turns: end of user speech -> first audio byte, as the server measures it (from the
  last voiced audio it received) and as the client sees it (from the last speech sample
  it sent to the first reply audio it received), and each stage of the turn.

Usage: python bench/local.py [--turns 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.latency import free_port, percentile, report, rss_mb, start_server, summary  # noqa: E402
from engine.metrics import METRIC_KEYS  # noqa: E402
from services.base import ChatMessage, TextDelta  # noqa: E402
from services.local.asr import WhisperASR  # noqa: E402
from services.local.llm import LlamaLLM  # noqa: E402
from services.local.tts import HibariTTS  # noqa: E402
from tests.client import Client, silence  # noqa: E402
from tests.conftest import Config, local_config  # noqa: E402
from tests.local.conftest import synthesize  # noqa: E402
from tests.local.test_roundtrip import SENTENCES  # noqa: E402
from tests.wer import word_error_rate  # noqa: E402

QUESTIONS = [
    "What is the capital of France?",
    "Tell me a fun fact about the ocean.",
    "How do I make a cup of tea?",
    "What is your favourite colour?",
    "Can you recommend a good book?",
    "Why is the sky blue?",
    "What should I cook for dinner tonight?",
    "How far away is the moon?",
    "Tell me a short joke.",
    "What is the best way to learn a language?",
    "How many legs does a spider have?",
    "What time is it in Tokyo?",
]
SERVER_SETTINGS = {"ASR_PROVIDER": "local", "LLM_PROVIDER": "local", "TTS_PROVIDER": "local", "LOG_LEVEL": "warning"}
# the same turns on the turn taking of 1.3 (600 ms of silence, no end-of-turn model, no speculation): the baseline
SILENCE_ONLY = {**SERVER_SETTINGS, "TURN_END_MODEL": "none", "TURN_SPECULATE": "false"}


def ratios(values: list[float]) -> dict[str, float]:
    """p50/p95 of small ratios, with the precision they need."""
    return {"p50": round(statistics.median(values), 4), "p95": round(percentile(values, 95), 4), "n": len(values)}


def voice_end_s(pcm: bytes, rate: int) -> float:
    """Where the last audible sample of a clip is (TTS clips end with some silence)."""
    samples = np.abs(np.frombuffer(pcm, dtype="<i2"))
    loud = np.nonzero(samples > 32768 * 10 ** (-40 / 20))[0]
    return float(loud[-1] + 1) / rate if len(loud) else 0.0


def stt_figures(config: Config) -> dict[str, Any]:
    asr: WhisperASR = config.factory().build("asr")
    pairs, factors = [], []
    for sentence in SENTENCES:
        pcm = synthesize(sentence, 16000)
        started = time.perf_counter()
        pairs.append((sentence, asr.pool.call(asr.transcribe, pcm, "en-US")))
        factors.append((time.perf_counter() - started) / (len(pcm) / 2 / 16000))
    return {"real_time_factor": ratios(factors), "wer_percent": round(100 * word_error_rate(pairs), 1)}


async def tts_figures(config: Config) -> dict[str, Any]:
    tts: HibariTTS = config.factory().build("tts")
    first_ms, factors = [], []
    for sentence in SENTENCES:
        started = time.perf_counter()
        first, audio_bytes = None, 0
        async for chunk in tts.synthesize(sentence, voice="", language="en-US", sample_rate=24000):
            first = first if first is not None else (time.perf_counter() - started) * 1000
            audio_bytes += len(chunk.pcm)
        first_ms.append(first or 0.0)
        factors.append((time.perf_counter() - started) / (audio_bytes / 2 / 24000))
    return {"first_audio_ms": summary(first_ms), "real_time_factor": ratios(factors)}


async def llm_figures(config: Config) -> dict[str, Any]:
    llm: LlamaLLM = config.factory().build("llm")
    first_ms, rates = [], []
    for question in QUESTIONS:
        messages: list[ChatMessage] = [
            {"role": "system", "content": config.server.system_prompt},
            {"role": "user", "content": question},
        ]
        started = time.perf_counter()
        first, tokens = 0.0, 0
        async for event in llm.stream(messages):
            if isinstance(event, TextDelta):
                tokens += 1  # llama.cpp streams one token per delta
                first = first or time.perf_counter() - started
        first_ms.append(first * 1000)
        rates.append((tokens - 1) / max(time.perf_counter() - started - first, 1e-6))
    return {"first_token_ms": summary(first_ms), "tokens_per_s": summary(rates)}


async def spoken_turns(url: str, turns: int) -> dict[str, Any]:
    client = await Client.connect(url, ack_playback=True)
    records, client_ms = [], []
    for index in range(turns):
        speech = await asyncio.to_thread(synthesize, QUESTIONS[index % len(QUESTIONS)], 24000)
        mark, frames_before = len(client.events), len(client.frames)
        loop = asyncio.get_running_loop()
        sending_began = loop.time()
        sending = asyncio.create_task(client.send_audio(silence(300) + speech + silence(1500), speed=1.0))
        speech_ended = sending_began + 0.3 + voice_end_s(speech, 24000)
        metrics = await client.wait_for("metrics", since=mark, timeout=60)
        await sending
        replies = client.frames[frames_before:]
        if replies:
            client_ms.append((replies[0].at - speech_ended) * 1000)
        records.append(metrics)
        await client.send("interrupt")  # do not wait for a long answer to be played out
        await client.wait_for("interrupt_acknowledged", since=mark)
    await client.close()
    figures: dict[str, Any] = {key: summary([r[key] for r in records if r[key] is not None]) for key in METRIC_KEYS}
    figures["client_end_of_speech_to_first_audio_ms"] = summary(client_ms)
    return figures


async def main(args: argparse.Namespace) -> dict[str, Any]:
    config = local_config()
    started = time.perf_counter()
    config.factory().warm_up()
    report: dict[str, Any] = {"warm_up_s": round(time.perf_counter() - started, 2)}
    report["stt"] = stt_figures(config)
    report["tts"] = await tts_figures(config)
    report["llm"] = await llm_figures(config)

    for name, settings in (("spoken_turns_silence_only", SILENCE_ONLY), ("spoken_turns", SERVER_SETTINGS)):
        port = free_port()
        server = start_server(port, settings)
        try:
            await wait_healthy(f"http://127.0.0.1:{port}/healthz")
            report[name] = await spoken_turns(f"ws://127.0.0.1:{port}/ws", args.turns)
            report["server_rss_mb"] = round(rss_mb(server.pid), 1)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return report


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(json.loads(response.read())["ready"])
    except OSError:  # not listening yet, or 503 while the engines warm up
        return False


async def wait_healthy(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(is_ready, url):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    report(asyncio.run(main(arguments)), arguments.json)
