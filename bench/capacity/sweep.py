"""Capacity sweep: N scripted callers against one server process pinned to one core.

For each target (the transport floor, Parley with its defaults and variants, Pipecat) and N
in the steps, in one run: start the server pinned to core 0 (the callers run
here, on core 1), ramp N callers in, measure a steady window, and stop a target at the first
step where p95 response > 2 s, p95 jitter > 40 ms, or any session fails.

Usage: python -m bench.capacity.sweep [--steps 1,10,20,50,100,200] [--window 20]
       [--targets floor,parley,parley-webrtc] [--profile zero|realistic] [--json out.json]
       [--framing 20,40]  (ms of audio per frame the callers send, and ask the server to send)
BENCH_LOG_LEVEL=info shows Parley's own log lines (turn decisions) during a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.capacity.caller import Caller, Figures, Ticker  # noqa: E402
from bench.capacity.measure import Process, loop_lag, percentile_summary  # noqa: E402
from bench.capacity.script import utterance  # noqa: E402

RESPONSE_BAR_MS, JITTER_BAR_MS = 2000.0, 40.0
DEFAULT_FRAMING = (20, 40)  # ms per frame in (the callers') and out (the servers' default)
DEFAULT_OUT_FRAME_MS = DEFAULT_FRAMING[1]
PROFILES = {  # mock providers: none of their own latency, or a realistic cloud's
    "zero": {"MOCK_ASR_FINAL_DELAY_MS": "0", "MOCK_LLM_FIRST_TOKEN_MS": "0", "MOCK_LLM_TOKEN_MS": "0",
             "MOCK_TTS_FIRST_BYTE_MS": "0", "MOCK_TTS_RTF": "0"},
    "realistic": {"MOCK_ASR_FINAL_DELAY_MS": "300", "MOCK_LLM_FIRST_TOKEN_MS": "400", "MOCK_LLM_TOKEN_MS": "33",
                  "MOCK_TTS_FIRST_BYTE_MS": "150", "MOCK_TTS_RTF": "0.05"},
}  # fmt: skip
PARLEY = {
    "ASR_PROVIDER": "mock", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "MOCK_LLM_SENTENCES": "3",
    "INPUT_SAMPLE_RATE": "16000", "MAX_SESSIONS": "2000", "MAX_SESSIONS_PER_ADDRESS": "2000",
    "MAX_CONNECTIONS_PER_ADDRESS": "2000", "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "warning"),
}  # fmt: skip
TARGETS: dict[str, tuple[list[str], dict[str, str]]] = {
    "floor-asyncio": (["-m", "bench.capacity.floor", "--loop", "asyncio", "--http", "h11", "--deflate"], {}),
    "floor": (["-m", "bench.capacity.floor", "--loop", "uvloop", "--http", "httptools"], {}),
    "parley": (["app.py"], PARLEY),
    "parley-webrtc": (["app.py"], {**PARLEY, "VAD_CONFIRM": "none"}),
    "parley-no-smart-turn": (["app.py"], {**PARLEY, "TURN_END_MODEL": "none"}),
    "parley-no-smart-turn-unbatched": (["app.py"], {**PARLEY, "TURN_END_MODEL": "none", "VAD_CONFIRM_BATCH": "false"}),
    "parley-asyncio": (["app.py"], {**PARLEY, "EVENT_LOOP": "asyncio", "WS_COMPRESSION": "true"}),
    "parley-no-pause": (["app.py"], {**PARLEY, "BARGE_IN_PAUSE": "false"}),  # protocol 1.3 turn taking
    "pipecat": (["bench/capacity/pipecat_server.py"], {}),  # in its own environment (bench/capacity/pipecat.sh)
}
PIPECAT_PYTHON = ROOT / ".venv-pipecat" / "bin" / "python"


def start(target: str, port: int, profile: str) -> subprocess.Popen[bytes]:
    args, settings = TARGETS[target]
    env = {**os.environ, **settings, **(PROFILES[profile] if settings else {}), "PORT": str(port), "HOST": "127.0.0.1"}
    if not settings:  # the floor and Pipecat take their port as an argument
        args = [*args, "--port", str(port)]
    python = str(PIPECAT_PYTHON) if target == "pipecat" else sys.executable
    return subprocess.Popen(["taskset", "-c", "0", python, *args], cwd=ROOT, env=env)


async def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    from websockets.asyncio.client import connect

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}) before it was ready")
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            async with connect(url, open_timeout=2) as ws:
                await asyncio.wait_for(ws.recv(), 5)
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no server at {url}")


async def step(target: str, n: int, port: int, args: argparse.Namespace) -> dict[str, Any]:
    server = start(target, port, args.profile)
    process = Process(server.pid)
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        await wait_ready(url, server)
        idle_rss = process.rss_mb()
        in_ms, out_ms = args.framing
        question = utterance("pause_corpus/pause-36", 2124, in_ms)  # "Saturday or Sunday?"
        cut_in = utterance("pause_corpus/pause-08", 2147, in_ms)  # "is to wait until Monday."
        ramp_s = max(1.0, n / 50)
        asked = None if out_ms == DEFAULT_OUT_FRAME_MS else out_ms  # the default asks nothing (any server)
        callers = [Caller(question, cut_in, ramp_s * i / n, asked) for i in range(n)]
        ticker = Ticker(in_ms)
        ticker.callers = callers
        began = time.monotonic()
        end = began + ramp_s + 2 + args.window
        ticking = asyncio.create_task(ticker.run(end))
        readers = await asyncio.gather(*(open_and_read(c, url) for c in callers), return_exceptions=True)
        await asyncio.sleep(max(0.0, began + ramp_s + 2 - time.monotonic()))
        cpu_before, lag_before = process.cpu_s(), await loop_lag(port)
        window_began = time.monotonic()
        profiler = profile(server.pid, f"{target}-{n}", args.window) if args.profile_dir else None
        await ticking
        if profiler is not None:
            profiler.wait(timeout=30)
        cpu_s, window_s = process.cpu_s() - cpu_before, time.monotonic() - window_began
        lag_after = await loop_lag(port)
        lag = lag_after - lag_before if lag_after is not None and lag_before is not None else None
        rss = process.rss_mb()
        await asyncio.gather(*(c.close() for c in callers))
        await asyncio.gather(*(r for r in readers if isinstance(r, asyncio.Task)), return_exceptions=True)
        result = figures(n, callers, ticker, cpu_s, window_s, idle_rss, rss, lag)
        if lag_after is not None and lag_before is not None:
            result["vad_mean_batch"] = lag_after.mean_batch_since(lag_before)
        return result
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=15)
        if server.poll() is None:
            server.kill()


def profile(pid: int, name: str, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy samples the server through the window (pip install py-spy; not a requirement)."""
    out = ROOT / "bench" / "results" / "profiles" / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "--format", "raw", "--nonblocking", "-d", str(int(seconds)), "-p", str(pid)]
    return subprocess.Popen([*command, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def open_and_read(caller: Caller, url: str) -> asyncio.Task[None]:
    try:
        await caller.open(url)
    except Exception as error:
        caller.figures.failures.append(f"set-up failed: {type(error).__name__}")
        raise
    return asyncio.create_task(caller.read())


def figures(
    n: int, callers: list[Caller], ticker: Ticker, cpu_s: float, window_s: float,
    idle_rss: float, rss: float, lag: Any,
) -> dict[str, Any]:  # fmt: skip
    every = Figures()
    for caller in callers:
        for name in ("response_ms", "stop_ms", "old_audio_after_onset_ms", "pause_ms", "lateness_ms", "failures",
                     "overhead_ms"):  # fmt: skip
            getattr(every, name).extend(getattr(caller.figures, name))
    setups = [c.figures.setup_s * 1000 for c in callers if c.figures.setup_s is not None]
    return {
        "sessions": n,
        "response_ms": percentile_summary(every.response_ms),
        "barge_in_stop_ms": percentile_summary(every.stop_ms),
        "old_audio_after_onset_ms": percentile_summary(every.old_audio_after_onset_ms),
        "pause_ms": percentile_summary(every.pause_ms),  # onset -> tts_pause (Parley 1.4)
        "server_overhead_ms": percentile_summary(every.overhead_ms),  # Parley only: the floor sends no metrics
        "jitter_ms": percentile_summary(every.lateness_ms),
        "setup_ms": percentile_summary(setups),
        "failures": len(every.failures),
        "failure_kinds": sorted(set(every.failures))[:5],
        "cpu_s_per_session_minute": round(cpu_s / (n * window_s / 60), 3),
        "cpu_share_of_core": round(cpu_s / window_s, 3),
        "rss_mb": round(rss, 1),
        "rss_mb_per_session": round((rss - idle_rss) / n, 2),
        "event_loop_lag_ms": lag,
        "client_lateness_ms": percentile_summary(ticker.lateness_ms),
    }


def passed(result: dict[str, Any]) -> bool:
    response, jitter = result["response_ms"].get("p95"), result["jitter_ms"].get("p95")
    return (
        result["failures"] == 0
        and response is not None
        and response <= RESPONSE_BAR_MS
        and (jitter is None or jitter <= JITTER_BAR_MS)
    )


async def sweep(args: argparse.Namespace) -> dict[str, Any]:
    os.sched_setaffinity(0, {1} if (os.cpu_count() or 1) > 1 else {0})
    port = 8765
    results: dict[str, list[dict[str, Any]]] = {t: [] for t in args.targets}
    report: dict[str, Any] = {}
    for n in args.steps:  # interleaved: every target at N before any at the next N
        for target in args.targets:
            if results[target] and not results[target][-1]["passed"]:
                continue
            port += 1
            result = await step(target, n, port, args)
            result["passed"] = passed(result)
            results[target].append(result)
            print(f"{target:>15} N={n:<4} {summary_line(result)}", flush=True)
            framing = {"in_ms": args.framing[0], "out_ms": args.framing[1]}
            report = {"profile": args.profile, "window_s": args.window, "framing": framing, **machine(),
                      "results": results}  # fmt: skip
            if args.json:  # after every step: an interrupted sweep keeps what it measured
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


def machine() -> dict[str, Any]:
    """Where and with what the figures were taken."""
    import datetime
    import importlib.metadata
    import platform

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    packages = ("uvicorn", "websockets", "uvloop", "httptools", "fastapi", "onnxruntime")
    return {
        "date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {name: importlib.metadata.version(name) for name in packages},
    }  # fmt: skip


def summary_line(r: dict[str, Any]) -> str:
    return (
        f"response p95 {r['response_ms'].get('p95')} ms, stop p95 {r['barge_in_stop_ms'].get('p95')} ms, "
        f"overhead p95 {r.get('server_overhead_ms', {}).get('p95')} ms, "
        f"cpu {r['cpu_s_per_session_minute']} s/session-min ({r['cpu_share_of_core']:.0%} core), "
        f"setup p95 {r['setup_ms'].get('p95')} ms, rss {r['rss_mb']} MB, failures {r['failures']}, "
        f"Silero batch {r.get('vad_mean_batch')}, "
        f"client late p95 {r['client_lateness_ms'].get('p95')} ms{'' if r['passed'] else '  (bar not met)'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 20, 50, 100, 200])
    parser.add_argument("--targets", type=lambda s: s.split(","), default=["floor", "parley", "parley-webrtc"])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="zero")
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile-dir", action="store_true", help="py-spy profiles under bench/results/profiles")
    parser.add_argument("--framing", type=lambda s: tuple(int(x) for x in s.split(",")), default=DEFAULT_FRAMING)
    arguments = parser.parse_args()
    asyncio.run(sweep(arguments))
