"""What a Conversation tells its client, independent of any wire format.

websocket/protocol.py translates these to Parley's JSON and binary messages; another
protocol would be another translator over the same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SessionInfo:
    """Sent once per connection: which session this is and whether it was resumed."""

    resumed: bool
    history_messages: int
    input_sample_rate: int
    output_sample_rate: int


@dataclass(frozen=True)
class StateChanged:
    state: str  # listening | thinking | speaking | stopped


@dataclass(frozen=True)
class Transcript:
    turn_id: int
    text: str
    final: bool
    source: str = "speech"  # speech | text


@dataclass(frozen=True)
class LlmStatus:
    turn_id: int
    status: str  # processing | complete | cancelled | failed


@dataclass(frozen=True)
class LlmText:
    turn_id: int
    delta: str
    content: str
    complete: bool


@dataclass(frozen=True)
class SpeechStart:
    """Audio of one sentence is about to follow (wire: tts_start)."""

    turn_id: int
    sample_rate: int
    text: str
    sentence_index: int
    offset_ms: float


@dataclass(frozen=True)
class SpeechEnd:
    """The last audio frame of the turn has been sent (wire: tts_end)."""

    turn_id: int
    audio_ms: float


@dataclass(frozen=True)
class SpeechStop:
    """The turn's audio was cut; drop whatever of it is queued (wire: tts_stop)."""

    turn_id: int
    reason: str  # barge_in | interrupt | stop | reset | text_input | error | disconnect
    played_ms: float


@dataclass(frozen=True)
class Acknowledged:
    kind: str  # interrupt | stop | reset
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Configured:
    values: dict[str, object]


@dataclass(frozen=True)
class ErrorEvent:
    code: str
    message: str
    turn_id: int | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class TurnMetrics:
    turn_id: int
    values: dict[str, float | None]
    interrupted: bool


@dataclass(frozen=True)
class AudioOut:
    turn_id: int
    sequence: int
    pcm: bytes


Event = (
    SessionInfo
    | StateChanged
    | Transcript
    | LlmStatus
    | LlmText
    | SpeechStart
    | SpeechEnd
    | SpeechStop
    | Acknowledged
    | Configured
    | ErrorEvent
    | TurnMetrics
    | AudioOut
)


class EventSink(Protocol):
    """Where a Conversation's events go; the handler implements it over its send queue."""

    def emit(self, event: Event) -> None:
        """Queue an event for the client; never blocks."""

    def clear_audio(self, turn_id: int) -> int:
        """Drop the turn's audio frames not yet sent; returns how many were dropped."""
