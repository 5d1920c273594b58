"""Latency benchmark: a real server process, real speech streamed at real time, mock providers.

Reports, as p50/p95 over the turns:
- each stage of the turn's latency record (ms from the end of user speech), and the part of
  end-of-speech -> first audio that is Parley's own (minus the silence window and the
  providers' configured delays);
- barge-in: from the moment the cut-in speech had BARGE_IN_MIN_MS of voice to `tts_stop`
  at the client, and how much of the cut reply's audio reached the client after that moment;
- the same turn latency with N sessions talking at once, and the server's memory;
- end of speech -> first reply audio at the client with zero-latency mocks, on the default turn
  taking (Smart Turn at a 200 ms silence, speculative reply) and on silence alone (600 ms, no
  speculation: the baseline), both in this run.

Usage: python bench/latency.py [--turns 10] [--cutins 5] [--sessions 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import webrtcvad  # noqa: E402

from engine.metrics import METRIC_KEYS  # noqa: E402
from tests.client import Client, load_speech, silence  # noqa: E402

SETTINGS = {
    "ASR_PROVIDER": "mock",
    "LLM_PROVIDER": "mock",
    "TTS_PROVIDER": "mock",
    "MOCK_ASR_FINAL_DELAY_MS": "30",
    "MOCK_LLM_FIRST_TOKEN_MS": "120",
    "MOCK_LLM_TOKEN_MS": "15",
    "MOCK_TTS_FIRST_BYTE_MS": "60",
    "MOCK_LLM_SENTENCES": "2",
    "VAD_END_SILENCE_MS": "600",
    "TURN_END_MODEL": "none",  # the overhead below is measured on the fixed silence window
    "TURN_SPECULATE": "false",
    "BARGE_IN_MIN_MS": "200",
    "MAX_SESSIONS": "200",
    "MAX_CONNECTIONS_PER_ADDRESS": "64",  # every simulated user comes from 127.0.0.1
    "MAX_SESSIONS_PER_ADDRESS": "200",
    "LOG_LEVEL": "warning",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1), "n": len(values)}


def speech_onset_ms(pcm: bytes, rate: int = 16000, needed_ms: int = 200) -> float:
    """When `needed_ms` of voiced audio (webrtcvad, 20 ms frames) has been heard in `pcm`."""
    vad, step, voiced = webrtcvad.Vad(2), rate // 50 * 2, 0
    for index in range(0, len(pcm) - step, step):
        voiced += 20 if vad.is_speech(pcm[index : index + step], rate) else 0
        if voiced >= needed_ms:
            return (index + step) / 2 / rate * 1000
    raise ValueError("not enough speech")


def start_server(port: int, settings: dict[str, str] = SETTINGS) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings, "PORT": str(port), "HOST": "127.0.0.1"}
    return subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_ready(url: str) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            client = await Client.connect(url)
            await client.close()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("server did not start")


async def spoken_turns(url: str, turns: int) -> list[dict[str, Any]]:
    client = await Client.connect(url, ack_playback=True)
    records = []
    for _ in range(turns):
        mark = len(client.events)
        await client.say("mountains", speed=1.0)
        metrics = await client.wait_for("metrics", since=mark, timeout=30)
        await client.wait_for("status", since=mark, state="listening")
        records.append(metrics)
    await client.close()
    return records


async def audio_after(client: Client, delay_s: float, turn_id: int) -> float:
    """The turn's audio the client has received `delay_s` from now."""
    await asyncio.sleep(delay_s)
    return client.audio_ms(turn_id)


async def cut_ins(url: str, count: int) -> tuple[list[float], list[float]]:
    client = await Client.connect(url, ack_playback=True)
    speech = load_speech("rivers", 24000)
    onset_ms = speech_onset_ms(load_speech("rivers", 16000), 16000, int(SETTINGS["BARGE_IN_MIN_MS"]))
    stop_latency, leaked = [], []
    await client.send("configure", system_prompt="Talk for a long time.")
    for _ in range(count):
        mark = len(client.events)
        await client.send("text_input", text="tell me a long story")
        start = await client.wait_for("tts_start", since=mark)
        await asyncio.sleep(0.8)
        loop = asyncio.get_running_loop()
        began = loop.time()
        at_bar = asyncio.create_task(audio_after(client, onset_ms / 1000, start["turn_id"]))
        sending = asyncio.create_task(client.send_audio(speech + silence(700), speed=1.0))
        stop = await client.wait_for("tts_stop", since=mark, timeout=30)
        stop_latency.append((stop["_at"] - began) * 1000 - onset_ms)
        await asyncio.sleep(0.05)
        leaked.append(client.audio_ms(start["turn_id"]) - await at_bar)
        await sending
        await client.wait_for("metrics", since=client.events.index(stop) + 1, timeout=30)
        await client.send("interrupt")
        await client.wait_for("interrupt_acknowledged", since=mark)
    await client.close()
    return stop_latency, leaked


async def concurrent(url: str, sessions: int, turns: int) -> list[dict[str, Any]]:
    results = await asyncio.gather(*(spoken_turns(url, turns) for _ in range(sessions)))
    return [record for session in results for record in session]


def turn_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    figures: dict[str, Any] = {key: summary([r[key] for r in records if r[key] is not None]) for key in METRIC_KEYS}
    provider_ms = sum(int(SETTINGS[k]) for k in ("MOCK_ASR_FINAL_DELAY_MS", "MOCK_TTS_FIRST_BYTE_MS"))
    provider_ms += int(SETTINGS["MOCK_LLM_FIRST_TOKEN_MS"])
    fixed = int(SETTINGS["VAD_END_SILENCE_MS"]) + provider_ms
    # The first sentence also waits for its tokens to stream; count them as provider time too.
    overhead = [r["first_audio_sent_ms"] - fixed - (r["first_sentence_ms"] - r["llm_first_token_ms"]) for r in records]
    figures["parley_overhead_ms"] = summary(overhead)
    return figures


ZERO_LATENCY = {
    **SETTINGS, "MOCK_ASR_FINAL_DELAY_MS": "0", "MOCK_LLM_FIRST_TOKEN_MS": "0", "MOCK_LLM_TOKEN_MS": "0",
    "MOCK_TTS_FIRST_BYTE_MS": "0",
}  # fmt: skip
TURN_TAKING = {
    "silence_600_ms": {**ZERO_LATENCY, "TURN_END_MODEL": "none", "TURN_SPECULATE": "false"},
    "default": {**ZERO_LATENCY, "TURN_END_MODEL": "smart_turn", "TURN_SPECULATE": "true"},
}


QUESTION = "What is the tallest mountain in the world?"


async def first_audio_after_speech(url: str, turns: int) -> list[float]:
    """Client-side: from the last speech sample sent to the first reply frame received."""
    from bench.local import voice_end_s  # imported here: bench.local imports this module
    from tests.local.conftest import synthesize

    client = await Client.connect(url, ack_playback=True)
    await client.wait_for("server_status", state="ready", timeout=60)
    speech, waits = await asyncio.to_thread(synthesize, QUESTION, client.rate), []  # the local TTS's voice
    end_s = voice_end_s(speech, client.rate)
    for _ in range(turns):
        mark, frames_before = len(client.events), len(client.frames)
        began = asyncio.get_running_loop().time()
        sending = asyncio.create_task(client.send_audio(speech + silence(2000), speed=1.0))
        await client.wait_for("tts_start", since=mark, timeout=30)
        await asyncio.sleep(0.1)
        frames = client.frames[frames_before:]
        waits.append((frames[0].at - began - end_s) * 1000)
        await sending
        await client.send("interrupt")
        await client.wait_for("interrupt_acknowledged", since=mark)
    await client.close()
    return waits


async def end_of_turn_figures(turns: int) -> dict[str, Any]:
    figures = {}
    for name, settings in TURN_TAKING.items():
        port = free_port()
        server = start_server(port, settings)
        try:
            url = f"ws://127.0.0.1:{port}/ws"
            await wait_ready(url)
            figures[name] = summary(await first_audio_after_speech(url, turns))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return {"end_of_speech_to_first_audio_ms_zero_latency_mocks": figures}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    server = start_server(port)
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        await wait_ready(url)
        started = time.monotonic()
        single = await spoken_turns(url, args.turns)
        stop_latency, leaked = await cut_ins(url, args.cutins)
        loaded = await concurrent(url, args.sessions, 2)
        report = {
            "turns": turn_figures(single),
            "barge_in": {"stop_latency_ms": summary(stop_latency), "audio_after_barge_in_ms": summary(leaked)},
            f"turns_with_{args.sessions}_sessions": turn_figures(loaded),
            "server_rss_mb": round(rss_mb(server.pid), 1),
            "bench_seconds": round(time.monotonic() - started, 1),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
    report["end_of_turn"] = await end_of_turn_figures(args.turns)
    return report


def report(result: dict[str, Any], path: Path | None) -> None:
    """Print the figures, and save them to `path` if given."""
    text = json.dumps(result, indent=2)
    print(text)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--cutins", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    report(asyncio.run(main(arguments)), arguments.json)
