"""What the engine is given: narrow options built once per process, and the session state it
works on (the Session of session.py satisfies ConversationState).

The engine reads nothing else of the server's configuration, so it can be driven by tests,
the benchmark and any protocol alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from engine.context import ContextOptions
from engine.history import History
from engine.memory import Memory
from engine.tool_runner import ToolOptions
from engine.turns.detector import TurnConfig
from engine.turns.end_of_turn import EndOfTurnOptions
from engine.turns.policy import TurnTakingOptions
from engine.turns.silero_batch import SileroBatcher
from services.base import ToolSpec
from utils.rates import FairShare, TokenBucket, loop_clock


@dataclass
class SessionSettings:
    """What a client may change during a session."""

    input_sample_rate: int
    language: str
    system_prompt: str
    voice: str
    output_frame_ms: int | None = None  # None: the server's AUDIO_OUT_FRAME_MS

    def update(
        self, input_sample_rate: int | None = None, language: str | None = None, system_prompt: str | None = None,
        voice: str | None = None, output_frame_ms: int | None = None,
    ) -> bool:  # fmt: skip
        """Change what is given; True when the input rate changed (the listener resamples anew)."""
        rate_changed = input_sample_rate is not None and input_sample_rate != self.input_sample_rate
        self.input_sample_rate = input_sample_rate or self.input_sample_rate
        self.language = language if language is not None else self.language
        self.voice = voice if voice is not None else self.voice
        self.system_prompt = system_prompt if system_prompt is not None else self.system_prompt
        self.output_frame_ms = output_frame_ms or self.output_frame_ms
        return rate_changed


class ConversationState(Protocol):
    """The persistent state of the session a Conversation runs in."""

    @property
    def settings(self) -> SessionSettings: ...

    @property
    def history(self) -> History: ...

    @property
    def memory(self) -> Memory: ...

    def next_turn_id(self) -> int: ...


@dataclass(frozen=True)
class ReplyRequest:
    """How one reply is made; a protocol sets these per session or per response."""

    instructions: str | None = None  # replaces the session's system prompt for this reply
    speak: bool = True  # False: text only, no TTS
    client_tools: tuple[ToolSpec, ...] = ()  # functions the client runs: calling one ends the reply
    tool_choice: Literal["auto", "none"] = "auto"  # none: no tool is offered
    max_output_tokens: int | None = None  # the reply ends, incomplete, past this many tokens


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
    vad_confirm_batch: bool = True  # Silero's windows of all sessions run together (engine/turns/silero_batch.py)
    asr_final_timeout_s: float = 10.0
    cancel_timeout_s: float = 1.0
    stall_s: float = 1.5  # an utterance whose audio stops arriving ends after this long
    audio_burst_ms: int = 2000  # audio may run ahead of real time by this much
    end_of_turn: EndOfTurnOptions = field(default_factory=EndOfTurnOptions)


@dataclass(frozen=True)
class EngineBudgets:
    """Process-wide budgets of CPU-costly work, shared evenly by the conversations present, so
    no client can starve the others: Silero windows per second, typed turns per second; and the
    end-of-turn model's seconds of inference per second for the whole process (first come, first
    served: a pause it cannot take is decided by its words)."""

    vad: FairShare = field(default_factory=lambda: FairShare(3000.0, 64.0, loop_clock))
    text_turns: FairShare = field(default_factory=lambda: FairShare(20.0, 3.0, loop_clock))
    turn_end_model: TokenBucket = field(default_factory=lambda: model_budget(0.5))
    silero: SileroBatcher = field(default_factory=SileroBatcher)  # not a budget: one queue for the process


MODEL_BURST_S = 0.25  # of inference the end-of-turn model may take at once: its queue never waits longer


def model_budget(cpu_share: float) -> TokenBucket:
    """`cpu_share` seconds of end-of-turn inference per second (a share of one core)."""
    return TokenBucket(cpu_share, MODEL_BURST_S, loop_clock)


@dataclass(frozen=True)
class EngineOptions:
    listen: ListenOptions = field(default_factory=ListenOptions)
    reply: ReplyOptions = field(default_factory=ReplyOptions)
    barge_in_min_ms: int = 200
    budgets: EngineBudgets = field(default_factory=EngineBudgets)
    context: ContextOptions = field(default_factory=ContextOptions)
    tools: ToolOptions = field(default_factory=ToolOptions)
    turn_taking: TurnTakingOptions = field(default_factory=TurnTakingOptions)
