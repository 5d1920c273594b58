"""Per-turn latency record, in ms from the real end of the user's speech."""

from __future__ import annotations

import asyncio

METRIC_KEYS = (
    "final_transcript_ms",
    "turn_taken_ms",
    "llm_first_token_ms",
    "first_sentence_ms",
    "tts_first_byte_ms",
    "first_audio_sent_ms",
)


class TurnTimer:
    """Marks the first time each stage is reached; `origin` is the end of user speech.

    `turn_taken_ms` is when the turn was decided over and its reply began to be heard: for a
    reply started on the words so far (speculation), later than its transcript.

    For spoken turns the origin is when the last voiced audio arrived (for a real-time
    client, when the user stopped talking, not when the silence window closed); for
    typed turns it is when the text arrived.
    """

    def __init__(self, origin: float | None = None) -> None:
        self.origin = asyncio.get_running_loop().time() if origin is None else origin
        self._marks: dict[str, float] = {}

    def mark(self, key: str) -> None:
        if key not in self._marks:
            self._marks[key] = asyncio.get_running_loop().time()

    def report(self) -> dict[str, float | None]:
        return {
            key: round((self._marks[key] - self.origin) * 1000, 1) if key in self._marks else None
            for key in METRIC_KEYS
        }
