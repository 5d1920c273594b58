"""What the engine tells its client, independent of any wire format.

Each protocol's router translates these into its own messages (websocket/parley/router.py
for Parley's); the engine never builds a message itself. History changes are not events
here: they are History operations (engine/history.py) that a store or a router follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from engine.availability import ServiceState

State = Literal["listening", "thinking", "speaking", "stopped"]
StopReason = Literal["barge_in", "interrupt", "stop", "reset", "text_input", "error", "disconnect"]
TranscriptSource = Literal["speech", "text"]
LlmStatusValue = Literal["processing", "complete", "cancelled", "failed"]
STATES: tuple[State, ...] = ("listening", "thinking", "speaking", "stopped")
STOP_REASONS: tuple[StopReason, ...] = ("barge_in", "interrupt", "stop", "reset", "text_input", "error", "disconnect")


@dataclass(frozen=True)
class StateChanged:
    state: State


@dataclass(frozen=True)
class Transcript:
    turn_id: int
    text: str
    final: bool
    source: TranscriptSource = "speech"


@dataclass(frozen=True)
class LlmStatus:
    turn_id: int
    status: LlmStatusValue


@dataclass(frozen=True)
class LlmText:
    turn_id: int
    delta: str
    content: str
    complete: bool


@dataclass(frozen=True)
class SpeechStart:
    """Audio of one sentence is about to follow."""

    turn_id: int
    sample_rate: int
    text: str
    sentence_index: int
    offset_ms: float


@dataclass(frozen=True)
class SpeechEnd:
    """The last audio frame of the turn has been sent."""

    turn_id: int
    audio_ms: float


@dataclass(frozen=True)
class SpeechStop:
    """The turn's audio was cut; whatever of it is queued must be dropped."""

    turn_id: int
    reason: StopReason
    played_ms: float
    after_speech_ms: float | None = None  # a barge-in: from the onset of the user's speech to the cut


@dataclass(frozen=True)
class SpeechPause:
    """The user may be cutting in: the turn's audio holds where it is (the client pauses its player)."""

    turn_id: int
    played_ms: float
    after_speech_ms: float | None = None  # from the onset of the user's speech to the pause


@dataclass(frozen=True)
class SpeechResume:
    """It was not an interruption: the turn's audio goes on from where it paused."""

    turn_id: int
    played_ms: float


@dataclass(frozen=True)
class ErrorEvent:
    """A failure the client should know of; `message` is safe to show (no internals)."""

    code: str
    message: str
    turn_id: int | None = None
    retry_after_s: float | None = None
    stage: str | None = None  # the provider that failed: asr, llm or tts


@dataclass(frozen=True)
class ServiceStatus:
    """Whether turns can be answered: at the start of a conversation and on every change."""

    state: ServiceState
    reason: str | None


@dataclass(frozen=True)
class TurnMetrics:
    """Told when a reply ends: `values` in ms from the end of the user's speech, which was at loop
    time `origin_s` (traces place their spans from it)."""

    turn_id: int
    values: dict[str, float | None]
    interrupted: bool
    origin_s: float = 0.0


@dataclass(frozen=True)
class UserSpeechStarted:
    """Speech that counts as a turn began (at once when nothing is replying; during a reply only
    once it cuts in). Positions are ms of input audio since the conversation began."""

    turn_id: int
    item_id: str  # the id its user message will have
    audio_start_ms: int


@dataclass(frozen=True)
class UserSpeechStopped:
    """The turn's speech ended; its transcript follows as a user message, or UserSpeechDropped."""

    turn_id: int
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class UserSpeechDropped:
    """Speech that ended but gives no user message: no words were recognized, or recognition failed."""

    turn_id: int
    item_id: str


@dataclass(frozen=True)
class ReplyStarted:
    turn_id: int
    response_id: str
    item_id: str  # the id its assistant message will have
    speak: bool


@dataclass(frozen=True)
class ClientToolCall:
    """The LLM called a tool the client runs; the reply ends, and the client adds the result."""

    turn_id: int
    response_id: str
    item_id: str
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ReplyEnded:
    """Exactly once per ReplyStarted, after every other event of the reply."""

    turn_id: int
    response_id: str
    outcome: Literal["completed", "interrupted", "failed"]
    reason: StopReason | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    incomplete: str | None = None  # the reply was cut short by a limit: "max_output_tokens"


@dataclass(frozen=True)
class AudioOut:
    turn_id: int
    sequence: int
    pcm: bytes


Event = (
    StateChanged
    | Transcript
    | LlmStatus
    | LlmText
    | SpeechStart
    | SpeechEnd
    | SpeechStop
    | SpeechPause
    | SpeechResume
    | ErrorEvent
    | TurnMetrics
    | ServiceStatus
) | (UserSpeechStarted | UserSpeechStopped | UserSpeechDropped | ReplyStarted | ClientToolCall | ReplyEnded | AudioOut)
ENGINE_DETAIL = (UserSpeechStarted, UserSpeechStopped, UserSpeechDropped, ReplyStarted, ClientToolCall, ReplyEnded)


class EventSink(Protocol):
    """Where a Conversation's events go: a protocol router, or a test's recorder."""

    def emit(self, event: Event) -> None:
        """Queue an event for the client; never blocks."""

    def clear_audio(self, turn_id: int) -> int:
        """Drop the turn's audio not yet sent; returns how many frames were dropped."""
