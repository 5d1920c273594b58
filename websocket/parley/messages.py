"""Parley's protocol messages, both directions, as typed models: the single source of truth.

PROTOCOL.md's message, field and error-code tables, docs/protocol.schema.json and the
page's static/js/protocol-constants.js are generated from this module by
scripts/gen_docs.py, and a test fails when they drift. A model's docstring says when the
message is sent (or what it does); each field's description says what it holds.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.availability import ServiceState
from engine.events import LlmStatusValue, State, StopReason, TranscriptSource
from engine.history import AssistantStatus
from websocket.parley.client_messages import (  # the client's half, re-exported
    CLIENT_ADAPTER as CLIENT_ADAPTER,
    CLIENT_MESSAGES as CLIENT_MESSAGES,
    AnyClientMessage as AnyClientMessage,
    ClientMessage as ClientMessage,
    Configure as Configure,
    Interrupt as Interrupt,
    Playback as Playback,
    Reset as Reset,
    Start as Start,
    Stop as Stop,
    TextInput as TextInput,
)
from websocket.parley.error_codes import ERROR_CODES as ERROR_CODES  # the codes of `Error`

PROTOCOL_VERSION = "1.6"


# ----- server to client ------------------------------------------------------------


class ServerMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    omit_none: ClassVar[bool] = False  # leave out optional fields that do not apply

    session_id: str = Field(description="the session this connection serves")


class SessionMessage(ServerMessage):
    """First message of every connection."""

    type: Literal["session"] = "session"
    protocol_version: str = Field(description=f"`{PROTOCOL_VERSION}`")
    resumed: bool = Field(description="true when the session_id asked for was resumed")
    history_messages: int = Field(description="items in the session's history")
    input_sample_rate: int = Field(description="the microphone rate the server expects")
    output_sample_rate: int = Field(description="the rate of the audio it sends")


class HistoryEntry(BaseModel):
    """One message of the conversation so far."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="the item's stable id")
    role: Literal["user", "assistant"]
    turn_id: int
    text: str = Field(description="the user's words, or everything generated for the reply")
    source: TranscriptSource | None = Field(description="user: speech or text; null for the assistant")
    heard_text: str | None = Field(description="assistant: what the user heard of it; null for the user")
    status: AssistantStatus | None = Field(description="assistant: completed, interrupted or failed")


class HistoryMessage(ServerMessage):
    """Right after `session`: the conversation so far, oldest first (empty for a new session),
    so a reloaded or reconnected page shows what the server remembers."""

    type: Literal["history"] = "history"
    items: list[HistoryEntry] = Field(description="user and assistant messages, each with id, role, turn_id, "
                                      "text, source (user), heard_text and status (assistant)")  # fmt: skip


class ServerStatus(ServerMessage):
    """After `session`, and whenever it changes: whether the server can answer. While `failed`,
    typed turns are refused (`service_unavailable`) and audio is ignored."""

    type: Literal["server_status"] = "server_status"
    state: ServiceState = Field(description="starting (engines loading; turns wait), ready, or failed")
    reason: str | None = Field(description="why it failed, naming the engine and the cause; null otherwise")


class GoingAway(ServerMessage):
    """The server is shutting down: a reply in flight may finish, no new turn is taken, then the
    socket closes with 1012. Reconnect (with the session_id) after `reconnect_after_s`."""

    type: Literal["going_away"] = "going_away"
    reconnect_after_s: float = Field(description="when to reconnect")


class Status(ServerMessage):
    """On every change of state."""

    type: Literal["status"] = "status"
    state: State = Field(description="listening, thinking, speaking or stopped")


class PartialTranscript(ServerMessage):
    """While the user speaks. A turn whose speech was too short to cut the bot off (see
    BARGE_IN_MIN_MS) may end with no final transcript."""

    type: Literal["partial_transcript"] = "partial_transcript"
    turn_id: int
    content: str = Field(description="the words so far")
    source: TranscriptSource = Field(description="speech")


class FinalTranscript(ServerMessage):
    """When the user's turn ends."""

    type: Literal["final_transcript"] = "final_transcript"
    turn_id: int
    content: str = Field(description="the user's words")
    source: TranscriptSource = Field(description="speech or text")


class LlmStatusMessage(ServerMessage):
    """Reply generation started, finished, was cut, or failed (an `error` says why)."""

    type: Literal["llm_status"] = "llm_status"
    turn_id: int
    status: LlmStatusValue = Field(description="processing, complete, cancelled or failed")


class LlmResponse(ServerMessage):
    """Each streamed piece of the reply text; the last has `is_complete: true` and an empty delta."""

    type: Literal["llm_response"] = "llm_response"
    turn_id: int
    delta: str = Field(description="the new text")
    content: str = Field(description="all the text so far")
    is_complete: bool


class TtsStart(ServerMessage):
    """Before the audio of each sentence."""

    type: Literal["tts_start"] = "tts_start"
    turn_id: int
    sample_rate: int
    format: Literal["pcm16"] = Field("pcm16", description="pcm16")
    text: str = Field(description="the sentence")
    sentence_index: int = Field(description="0, 1, ... within the turn")
    offset_ms: float = Field(description="where the sentence starts in the turn's audio")


class TtsEnd(ServerMessage):
    """After the last audio frame of the turn."""

    type: Literal["tts_end"] = "tts_end"
    turn_id: int
    audio_ms: float = Field(description="the turn's audio in all")


class TtsStop(ServerMessage):
    """The turn's audio was cut: flush the player now and drop any later frame of this turn."""

    type: Literal["tts_stop"] = "tts_stop"
    turn_id: int
    reason: StopReason = Field(description="barge_in, interrupt, stop, reset, text_input, error or disconnect")
    played_ms: float = Field(description="the server's estimate of what was played")


class TtsPause(ServerMessage):
    """The user may be cutting in: pause the player now, keeping what is queued."""

    type: Literal["tts_pause"] = "tts_pause"
    turn_id: int
    played_ms: float = Field(description="where the server holds the turn's audio")


class TtsResume(ServerMessage):
    """Not an interruption after all (a cough, "mm-hmm"): play on from where the player paused."""

    type: Literal["tts_resume"] = "tts_resume"
    turn_id: int
    played_ms: float = Field(description="where the turn's audio goes on from")


class InterruptAcknowledged(ServerMessage):
    """Answer to `interrupt`."""

    type: Literal["interrupt_acknowledged"] = "interrupt_acknowledged"
    turn_id: int | None = Field(description="the reply cut; null when nothing was replying")


class StopAcknowledged(ServerMessage):
    """Answer to `stop`."""

    type: Literal["stop_acknowledged"] = "stop_acknowledged"
    turn_id: int | None = Field(description="the reply cut, or null")
    queues_cleared: bool = Field(description="always true: nothing of the cut reply is left to send")


class ResetAcknowledged(ServerMessage):
    """Answer to `reset`."""

    type: Literal["reset_acknowledged"] = "reset_acknowledged"
    turn_id: int | None = Field(description="the reply cut, or null")


class Configured(ServerMessage):
    """Answer to `configure`: the session's settings as they now are."""

    type: Literal["configured"] = "configured"
    input_sample_rate: int
    output_sample_rate: int
    language: str
    system_prompt: str
    voice: str
    output_frame_ms: int = Field(description="ms of audio per binary frame sent")


class Error(ServerMessage):
    """Bad input or a failed provider; the session continues."""

    omit_none: ClassVar[bool] = True
    type: Literal["error"] = "error"
    code: str = Field(description="one of the error codes below")
    message: str = Field(description="what went wrong, for people")
    turn_id: int | None = Field(None, description="the turn it ended, where it applies")
    retry_after_s: float | None = Field(None, description="when to try again, where known")


class Metrics(ServerMessage):
    """When a reply ends. Each figure is ms from the real end of the user's speech (the arrival of
    the last voiced audio; for typed turns, the arrival of the text), or null if the stage was
    not reached."""

    type: Literal["metrics"] = "metrics"
    turn_id: int
    interrupted: bool
    final_transcript_ms: float | None
    turn_taken_ms: float | None = Field(
        description="when the turn was decided over (a reply started on the words so far is heard only from then)"
    )
    llm_first_token_ms: float | None
    first_sentence_ms: float | None
    tts_first_byte_ms: float | None
    first_audio_sent_ms: float | None


SERVER_MESSAGES: tuple[type[ServerMessage], ...] = (
    SessionMessage, HistoryMessage, ServerStatus, GoingAway, Status, PartialTranscript, FinalTranscript,
    LlmStatusMessage, LlmResponse, TtsStart, TtsEnd, TtsStop, TtsPause, TtsResume, InterruptAcknowledged,
    StopAcknowledged,
    ResetAcknowledged, Configured, Error, Metrics,
)  # fmt: skip


def message_type(model: type[BaseModel]) -> str:
    """The `type` value of a message model."""
    annotation = model.model_fields["type"].annotation
    return str(annotation.__args__[0])  # type: ignore[union-attr]
