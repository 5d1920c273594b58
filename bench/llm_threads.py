"""The local LLM's speed by thread count, on an idle machine and with other cores kept busy:
the measurement behind LOCAL_LLM_THREADS=0 (auto) in services/local/llama_runtime.py.

Busy cores are spin loops in child processes (one per core asked for), as another build or
test run would keep them. Prints tokens per second (p50 and worst of --runs replies) and the
first token time for each thread count and load.

Usage: python bench/llm_threads.py [--threads 1 2] [--busy 0 1 2] [--runs 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.base import ChatMessage  # noqa: E402
from services.local.ik_llama import Sampling  # noqa: E402
from services.local.llama_runtime import bundled_model_path, load  # noqa: E402

ASK: list[ChatMessage] = [{"role": "user", "content": "Tell me a long story about a dragon and a knight."}]


def spin(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        for _ in range(100_000):
            pass


def one_reply(model: object, tokens: int) -> tuple[float, float]:
    """(first piece s, pieces per s after it) for one greedy reply of `tokens` pieces."""
    started, first, count = time.perf_counter(), 0.0, 0
    for _ in model.generate(ASK, tokens, Sampling(temperature=0.0), lambda: False):  # type: ignore[attr-defined]
        first = first or time.perf_counter() - started
        count += 1
    return first, (count - 1) / max(time.perf_counter() - started - first, 1e-6)


def measure(threads: int, busy: int, runs: int, tokens: int) -> dict[str, float]:
    model = load("ik_llama", bundled_model_path(), 1024, threads)
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(busy)]
    for process in spinners:
        process.start()
    try:
        time.sleep(0.5 if busy else 0)
        results = [one_reply(model, tokens) for _ in range(runs)]
    finally:
        stop.set()
        for process in spinners:
            process.join(5)
    rates = [rate for _, rate in results]
    return {"tok_s_p50": statistics.median(rates), "tok_s_min": min(rates),
            "first_ms_p50": 1000 * statistics.median(first for first, _ in results)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2], help="cores kept busy")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    print(f"{len(os.sched_getaffinity(0))} cores; {args.runs} replies of {args.tokens} tokens each")
    print("| busy cores | threads | tokens/s p50 | tokens/s worst | first token p50 |")
    print("|---|---|---|---|---|")
    for busy in args.busy:
        for threads in args.threads:
            r = measure(threads, busy, args.runs, args.tokens)
            print(f"| {busy} | {threads} | {r['tok_s_p50']:.0f} | {r['tok_s_min']:.0f} | {r['first_ms_p50']:.0f} ms |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
