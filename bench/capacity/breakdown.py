"""Where the server's time goes, from a py-spy raw profile: the share of busy samples under
each part of the pipeline (a sample counts for the first part found from the leaf upwards).

Usage: python -m bench.capacity.breakdown bench/results/profiles/parley-50.txt
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

PARTS = {  # part -> substrings of a frame (function and file), checked leaf first
    "Silero": ("SileroStream", "onnxruntime"),
    "webrtcvad and turn detector": ("webrtcvad", "detector.py", "speech_gate.py"),
    "resampling": ("resample",),
    "mock providers": ("services/mock", "mock/"),
    "JSON": ("json", "codec.py", "pydantic"),
    "pacing and playout": ("pacer.py", "playout"),
    "WebSocket send/receive": ("websockets", "uvicorn/protocols", "starlette/websockets"),
    "engine (listener, replies, history)": ("engine/",),
    "connection and router": ("connection.py", "router.py", "outbound.py"),
    "asyncio scheduling": ("asyncio", "uvloop", "_run_once", "events.py"),
}


def part_of(frames: list[str]) -> str:
    if any("smart_turn.py" in frame for frame in frames):  # its own thread; onnxruntime underneath
        return "Smart Turn"
    for frame in reversed(frames):
        for part, marks in PARTS.items():
            if any(mark in frame for mark in marks):
                return part
    return "other"


def breakdown(path: Path) -> dict[str, float]:
    counts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        counts[part_of(stack.split(";"))] += int(samples)
    total = sum(counts.values()) or 1
    return {part: round(100 * n / total, 1) for part, n in counts.most_common()}


if __name__ == "__main__":
    for part, share in breakdown(Path(sys.argv[1])).items():
        print(f"{share:5.1f} %  {part}")
