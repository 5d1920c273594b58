"""What the engine is given: narrow options built once per process, and the session state it
works on (the Session of session.py satisfies ConversationState).

The engine reads nothing else of the server's configuration, so it can be driven by tests,
the benchmark and any protocol alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from engine.history import History
from engine.turns.detector import TurnConfig


@dataclass
class SessionSettings:
    """What a client may change during a session."""

    input_sample_rate: int
    language: str
    system_prompt: str
    voice: str


class ConversationState(Protocol):
    """The persistent state of the session a Conversation runs in."""

    @property
    def settings(self) -> SessionSettings: ...

    @property
    def history(self) -> History: ...

    def next_turn_id(self) -> int: ...


@dataclass(frozen=True)
class ReplyOptions:
    """How replies stream: output format, pacing, and per-step provider timeouts."""

    sample_rate: int = 24000
    frame_ms: int = 40
    lead_ms: float = 200
    llm_first_token_timeout_s: float = 15.0
    llm_idle_timeout_s: float = 10.0
    tts_first_byte_timeout_s: float = 10.0
    tts_idle_timeout_s: float = 10.0
    cancel_timeout_s: float = 1.0


@dataclass(frozen=True)
class ListenOptions:
    """How microphone audio becomes turns."""

    turn: TurnConfig = field(default_factory=TurnConfig)
    vad_confirm: Literal["silero", "none"] = "silero"
    vad_confirm_threshold: float = 0.5
    asr_final_timeout_s: float = 10.0
    cancel_timeout_s: float = 1.0


@dataclass(frozen=True)
class EngineOptions:
    listen: ListenOptions = field(default_factory=ListenOptions)
    reply: ReplyOptions = field(default_factory=ReplyOptions)
    barge_in_min_ms: int = 200
