"""docs/BENCHMARKS.md and its plots, from the sweep's JSON (docs/benchmarks/capacity-*.json).

The Markdown is a pure function of the JSON (a test checks the committed file against it);
the PNGs need matplotlib (requirements-dev.txt).

Usage: python -m bench.capacity.report [--plots]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "benchmarks"
DOC = ROOT / "docs" / "BENCHMARKS.md"
PLOTS = RESULTS
FLOOR = "floor"
LABELS = {
    "floor-asyncio": "floor, uvicorn defaults (asyncio, h11, permessage-deflate)",
    "floor": "floor (uvloop, httptools, no compression)",
    "parley": "Parley, defaults (webrtcvad + Silero, Smart Turn)",
    "parley-no-smart-turn": "Parley, default VAD, no end-of-turn model",
    "parley-no-smart-turn-unbatched": "the same, Silero run for each session alone (VAD_CONFIRM_BATCH=false)",
    "parley-webrtc": "Parley, webrtcvad only (Smart Turn on)",
    "pipecat": "Pipecat 1.14 (Silero VAD, Smart Turn v3: its defaults)",
    "parley-asyncio": "Parley, default VAD, on uvicorn defaults",
}


def load(profile: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS / f"capacity-{profile}.json").read_text())
    return data


def capacity(steps: list[dict[str, Any]]) -> int:
    """The most sessions that met every bar."""
    return max((s["sessions"] for s in steps if s["passed"]), default=0)


def by_n(steps: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {s["sessions"]: s for s in steps}


def ratio(value: float | None, floor: float | None) -> str:
    return f" ({value / floor:.1f}x)" if value is not None and floor else ""


def framing(data: dict[str, Any]) -> str:
    """The frame sizes of a run, where they are not the callers' 20 ms and the servers' default 40."""
    sizes = data.get("framing") or {"in_ms": 20, "out_ms": 40}
    if (sizes["in_ms"], sizes["out_ms"]) == (20, 40):
        return ""
    return f", {sizes['in_ms']} ms frames in, {sizes['out_ms']} ms out"


def render(data: dict[str, Any]) -> str:
    results: dict[str, list[dict[str, Any]]] = data["results"]
    floor = by_n(results.get(FLOOR, []))
    lines = [f"### Profile `{data['profile']}`{framing(data)} ({data['window_s']:.0f} s measured per step)", ""]
    lines += ["| target | sessions on one core (p95 response <= 2 s, jitter <= 40 ms, none failed) | ratio to floor |",
              "|---|---|---|"]  # fmt: skip
    floor_capacity = capacity(results.get(FLOOR, []))
    for target, steps in results.items():
        cap = capacity(steps)
        note = "" if steps and not steps[-1]["passed"] else " or more (every step run passed)"
        lines.append(f"| {LABELS.get(target, target)} | {cap}{note} | {cap / floor_capacity:.2f} |"
                     if floor_capacity else f"| {LABELS.get(target, target)} | {cap}{note} | |")  # fmt: skip
    lines += ["", "| target | N | CPU s per session-minute (x floor) | response p50 / p95 ms | barge-in stop p95 ms "
              "| old audio after onset p95 ms | server overhead p95 ms | set-up p95 ms | RSS MB (per session) "
              "| loop lag p95 ms | failures |", "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for target, steps in results.items():
        for s in steps:
            base = floor.get(s["sessions"], {}).get("cpu_s_per_session_minute")
            cpu = s["cpu_s_per_session_minute"]
            lag = (s.get("event_loop_lag_ms") or {}).get("p95_at_most")
            lines.append(
                f"| {target} | {s['sessions']} | {cpu:.3f}{ratio(cpu, base) if target != FLOOR else ''} "
                f"| {s['response_ms'].get('p50')} / {s['response_ms'].get('p95')} "
                f"| {s['barge_in_stop_ms'].get('p95')} | {s['old_audio_after_onset_ms'].get('p95')} "
                f"| {(s.get('server_overhead_ms') or {}).get('p95', '')} "
                f"| {s['setup_ms'].get('p95')} | {s['rss_mb']} ({s['rss_mb_per_session']}) "
                f"| {'' if lag is None else f'<= {lag:g}'} | {s['failures']}{'' if s['passed'] else ' (bar not met)'} |"
            )
    return "\n".join(lines) + "\n"


def document(profiles: list[str]) -> str:
    head = (RESULTS / "capacity-header.md").read_text()
    return head + "\n" + "\n".join(render(load(p)) for p in profiles)


def plots(profile: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = load(profile)
    PLOTS.mkdir(parents=True, exist_ok=True)
    for key, field, title in (("latency", ("response_ms", "p95"), "response p95 (ms)"),
                              ("cpu", ("cpu_s_per_session_minute", None), "CPU s per session-minute")):  # fmt: skip
        figure, axes = plt.subplots(figsize=(7, 4))
        for target, steps in data["results"].items():
            xs = [s["sessions"] for s in steps]
            ys = [s[field[0]][field[1]] if field[1] else s[field[0]] for s in steps]
            axes.plot(xs, ys, marker="o", label=LABELS.get(target, target))
        axes.set_xscale("log")
        axes.set_xlabel("concurrent sessions (one server core)")
        axes.set_ylabel(title)
        axes.legend(fontsize=7)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(PLOTS / f"{key}-{profile}.png", dpi=90)
        plt.close(figure)


PROFILES = ["zero", "realistic", "framing"]  # capacity-<name>.json; "framing": zero, larger frames

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plots", action="store_true")
    args = parser.parse_args()
    present = [p for p in PROFILES if (RESULTS / f"capacity-{p}.json").exists()]
    DOC.write_text(document(present))
    if args.plots:
        for p in present:
            plots(p)
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
