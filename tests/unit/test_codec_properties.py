"""Property-based tests of Parley's codec: whatever a client sends (any text, any JSON, any
bytes), decoding returns a message or a rejection with a known error code, never raises, and
never echoes an unbounded amount of the input back."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from websocket.parley import codec, messages as m

MAX_TEXT = 4000
ANSWER_LIMIT = 400  # characters of an error message: enough to say what is wrong, never a copy of the input
TYPES = sorted(codec.CLIENT_TYPES)
FIELDS = ["type", "text", "turn_id", "played_ms", "input_sample_rate", "language", "system_prompt", "voice"]
RELAXED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=50)
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | st.text(max_size=20)},
    optional={name: json_values for name in FIELDS[1:]},
)


def check(result: object) -> None:
    if isinstance(result, codec.Rejected):
        assert result.code in m.ERROR_CODES
        assert len(result.message) <= ANSWER_LIMIT
    else:
        assert isinstance(result, tuple(m.CLIENT_MESSAGES))
        text = getattr(result, "text", None)
        assert text is None or (text.strip() and len(text) <= MAX_TEXT)
        played = getattr(result, "played_ms", None)
        assert played is None or (math.isfinite(played) and played >= 0)


@RELAXED
@given(st.text(max_size=2000))
def test_any_text_is_a_message_or_a_rejection(raw: str) -> None:
    check(codec.decode_text(raw, MAX_TEXT))


@RELAXED
@given(messages)
def test_any_json_object_is_a_message_or_a_rejection(data: dict[str, Any]) -> None:
    check(codec.decode_text(json.dumps(data), MAX_TEXT))  # json.dumps writes NaN and Infinity as Python reads them


@RELAXED
@given(st.sampled_from(TYPES), st.text(min_size=1, max_size=200), st.integers(min_value=5000, max_value=20000))
def test_huge_numbers_deep_nesting_and_long_types_are_rejected_briefly(kind: str, junk: str, size: int) -> None:
    for raw in (
        json.dumps({"type": kind, "turn_id": 1}).replace("1}", "9" * size + "}"),
        "[" * size + "]" * size,
        json.dumps({"type": junk * (size // len(junk) + 1)}),
        json.dumps({"type": "text_input", "text": " \t\n" * 3}),
    ):
        check(codec.decode_text(raw, MAX_TEXT))


@RELAXED
@given(st.binary(max_size=12000), st.sampled_from([16000, 24000, 48000]))
def test_any_bytes_are_an_audio_frame_or_a_rejection(raw: bytes, rate: int) -> None:
    result = codec.decode_audio(raw, rate)
    if isinstance(result, codec.Rejected):
        assert result.code in m.ERROR_CODES
    else:
        assert len(result.pcm) % 2 == 0 and codec.MIN_FRAME_MS <= len(result.pcm) / 2 / rate * 1000 <= 100
