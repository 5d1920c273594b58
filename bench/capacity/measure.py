"""What the sweep reads of the server: its CPU time and memory (/proc), its event-loop lag
(Parley's /metrics histogram), and percentiles."""

from __future__ import annotations

import asyncio
import os
import statistics
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


class Process:
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu_s(self) -> float:
        """User + system CPU seconds of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def percentile_summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1), "n": len(values),
    }  # fmt: skip


class LagHistogram:
    """Cumulative bucket counts of parley_event_loop_lag_seconds; subtract two to get a window.
    Also the counters of Silero's batches (parley_vad_*_total)."""

    def __init__(self, buckets: dict[float, float], counters: dict[str, float] | None = None) -> None:
        self.buckets = buckets
        self.counters = counters or {}

    def mean_batch_since(self, before: LagHistogram) -> float | None:
        """Silero windows per batched inference between two scrapes (None: none ran batched)."""
        windows = self.counters.get("parley_vad_windows_total", 0) - before.counters.get("parley_vad_windows_total", 0)
        runs = self.counters.get("parley_vad_inferences_total", 0) - before.counters.get(
            "parley_vad_inferences_total", 0
        )
        return round(windows / runs, 2) if runs else None

    def __sub__(self, other: LagHistogram) -> dict[str, Any]:
        counts = {le: n - other.buckets.get(le, 0) for le, n in self.buckets.items()}
        total = counts.get(float("inf"), 0)
        if not total:
            return {"n": 0}
        result: dict[str, Any] = {"n": int(total)}
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            bound = next(le for le, n in sorted(counts.items()) if n >= q * total)
            result[f"{name}_at_most"] = bound * 1000 if bound != float("inf") else None
        return result


async def loop_lag(port: int) -> LagHistogram | None:
    """The server's event-loop lag histogram, or None when it has no /metrics (the floor)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        body = (await asyncio.wait_for(reader.read(), 10)).decode()
        writer.close()
    except (TimeoutError, OSError):
        return None
    if " 200 " not in body.split("\r\n", 1)[0]:
        return None
    buckets: dict[float, float] = {}
    counters: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith("parley_event_loop_lag_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(le)] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("parley_vad_"):
            name, value = line.rsplit(" ", 1)
            counters[name] = float(value)
    return LagHistogram(buckets, counters) if buckets else None
