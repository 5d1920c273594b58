"""Inputs a fuzzing client sends: random, malformed, truncated, oversized and out-of-order,
drawn from a seeded generator so a failure can be replayed."""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from typing import Any

VALID: list[dict[str, Any]] = [
    {"type": "start"}, {"type": "stop"}, {"type": "reset"}, {"type": "interrupt"},
    {"type": "text_input", "text": "hello there"}, {"type": "configure", "input_sample_rate": 16000},
    {"type": "configure", "language": "fr-FR", "voice": "x"}, {"type": "playback", "turn_id": 1, "played_ms": 20},
]  # fmt: skip
ODD_VALUES: list[Any] = [None, True, -1, 0, 2**64, 1e308, "", "x" * 300, [], {}, [1, [2, [3]]], "\u0000", "\ud800"]


def audio(rng: random.Random, ms: float, rate: int = 24000) -> bytes:
    samples = int(rate * ms / 1000)
    pcm = struct.pack(f"<{samples}h", *(rng.randint(-8000, 8000) for _ in range(samples)))
    return struct.pack("<II", rng.getrandbits(32), rng.getrandbits(10)) + pcm


def fuzz_inputs(rng: random.Random) -> Callable[[], str | bytes]:
    """A function giving the next input: text (str) or binary (bytes)."""

    def mutated() -> str:
        message = dict(rng.choice(VALID))
        key = rng.choice([*message, "turn_id", "played_ms", "text", "type", "extra"])
        message[key] = rng.choice(ODD_VALUES)
        return json.dumps(message, allow_nan=True)

    makers: list[Callable[[], str | bytes]] = [
        lambda: rng.randbytes(rng.randint(0, 200)),
        lambda: "".join(chr(rng.randint(1, 0xD7FF)) for _ in range(rng.randint(0, 80))),
        lambda: json.dumps(rng.choice(VALID))[: rng.randint(0, 30)],  # truncated
        mutated,
        lambda: json.dumps(rng.choice(VALID)),  # valid, in a random order: out-of-order commands
        lambda: '{"type": "text_input", "text": ' + "9" * rng.randint(4300, 9000) + "}",
        lambda: "[" * rng.randint(1000, 5000),
        lambda: json.dumps({"type": "playback", "turn_id": rng.getrandbits(32), "played_ms": rng.random() * 1e6}),
        lambda: audio(rng, rng.choice([1, 10, 20, 100, 120])),
        lambda: rng.randbytes(8) + rng.randbytes(rng.choice([1, 3, 481])),
    ]
    return lambda: rng.choice(makers)()
