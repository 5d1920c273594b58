"""The Realtime session configuration: the GA `session` object, checked and merged from
`session.update` and `response.create`, and what it means for the engine.

Only what Parley can honour is accepted; a value it cannot (another audio format, a forced
tool choice) is refused with an error naming the parameter, never silently ignored. Fields
Parley has no use for (tracing, include, prompt, truncation) are ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.options import ReplyRequest
from engine.turns.detector import TurnConfig
from services.base import ToolSpec

SAMPLE_RATE = 24000
MAX_INSTRUCTIONS_CHARS = 32768
MAX_TOOLS = 64
EAGERNESS_SILENCE_MS = {"low": 1200, "medium": 600, "auto": 600, "high": 300}


class ConfigRefused(Exception):
    def __init__(self, message: str, param: str | None) -> None:
        super().__init__(message)
        self.message, self.param = message, param


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AudioFormat(_Loose):
    type: str = "audio/pcm"
    rate: int | None = SAMPLE_RATE


class TurnDetection(_Loose):
    type: Literal["server_vad", "semantic_vad"] = "server_vad"
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    prefix_padding_ms: int | None = Field(None, ge=0, le=5000)
    silence_duration_ms: int | None = Field(None, ge=100, le=10000)
    create_response: bool | None = None
    interrupt_response: bool | None = None
    idle_timeout_ms: int | None = None
    eagerness: Literal["low", "medium", "high", "auto"] | None = None


class AudioInput(_Loose):
    format: AudioFormat | None = None
    turn_detection: TurnDetection | None = None
    transcription: dict[str, Any] | None = None


class AudioOutput(_Loose):
    format: AudioFormat | None = None
    voice: str | None = Field(None, max_length=200)
    speed: float | None = Field(None, ge=0.25, le=1.5)


class Audio(_Loose):
    input: AudioInput | None = None
    output: AudioOutput | None = None


class FunctionTool(_Loose):
    type: Literal["function"] = "function"
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = Field("", max_length=4096)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ReplyPatch(_Loose):
    """What a `response.create` may override for one response."""

    instructions: str | None = Field(None, max_length=MAX_INSTRUCTIONS_CHARS)
    output_modalities: list[Literal["text", "audio"]] | None = Field(None, min_length=1, max_length=1)
    tools: list[FunctionTool] | None = Field(None, max_length=MAX_TOOLS)
    tool_choice: Any = None
    max_output_tokens: int | Literal["inf"] | None = None
    metadata: dict[str, str] | None = None
    conversation: str | None = None
    input: list[Any] | None = None


class SessionPatch(ReplyPatch):
    type: Literal["realtime"] | None = None
    model: str | None = Field(None, max_length=200)
    audio: Audio | None = None


def parse(model: type[_Loose], data: object, where: str) -> Any:
    """`data` as `model`, or ConfigRefused naming the first bad parameter."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join([where, *(str(part) for part in first["loc"])])
        raise ConfigRefused(f"Invalid value for '{param}': {first['msg']}", param) from None


def check_format(audio_format: AudioFormat | None, param: str) -> None:
    if audio_format is not None and (audio_format.type != "audio/pcm" or audio_format.rate not in (None, SAMPLE_RATE)):
        raise ConfigRefused(f"Parley speaks audio/pcm at {SAMPLE_RATE} Hz only (16-bit mono, base64)", param)


def check_choice(choice: Any, param: str) -> Literal["auto", "none"] | None:
    if choice is None or choice in ("auto", "none"):
        return choice  # type: ignore[no-any-return]
    raise ConfigRefused("tool_choice may be 'auto' or 'none' (Parley cannot force a tool call)", param)


def check_tokens(value: int | Literal["inf"] | None, param: str) -> None:
    if isinstance(value, int) and not 1 <= value <= 4096:
        raise ConfigRefused("max_output_tokens must be between 1 and 4096, or 'inf'", param)


@dataclass
class RealtimeSession:
    """The session as the client sees it; `to_wire()` is the GA `session` object."""

    id: str
    model: str
    instructions: str
    voice: str
    silence_ms: int
    prefix_ms: int
    modalities: list[str] = field(default_factory=lambda: ["audio"])
    turn_detection: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Literal["auto", "none"] = "auto"
    max_output_tokens: int | Literal["inf"] = "inf"
    transcription: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.turn_detection is None:
            self.turn_detection = self.server_vad(TurnDetection())

    def server_vad(self, detection: TurnDetection) -> dict[str, Any]:
        silence = detection.silence_duration_ms
        if silence is None and detection.eagerness is not None:
            silence = EAGERNESS_SILENCE_MS[detection.eagerness]
        return {
            "type": detection.type, "threshold": detection.threshold if detection.threshold is not None else 0.5,
            "prefix_padding_ms": detection.prefix_padding_ms if detection.prefix_padding_ms is not None else
            self.prefix_ms, "silence_duration_ms": silence or self.silence_ms,
            "create_response": detection.create_response is not False,
            "interrupt_response": detection.interrupt_response is not False, "idle_timeout_ms": None,
        }  # fmt: skip

    def update(self, patch: SessionPatch) -> None:
        """Apply a checked `session.update` (every check passes before anything changes)."""
        audio = patch.audio or Audio()
        audio_in, audio_out = audio.input or AudioInput(), audio.output or AudioOutput()
        check_format(audio_in.format, "session.audio.input.format")
        check_format(audio_out.format, "session.audio.output.format")
        choice = check_choice(patch.tool_choice, "session.tool_choice")
        check_tokens(patch.max_output_tokens, "session.max_output_tokens")
        if "turn_detection" in audio_in.model_fields_set:
            detection = audio_in.turn_detection
            self.turn_detection = None if detection is None else self.server_vad(detection)
        if "transcription" in audio_in.model_fields_set:
            self.transcription = audio_in.transcription
        self.model = patch.model or self.model
        self.instructions = patch.instructions if patch.instructions is not None else self.instructions
        self.voice = audio_out.voice or self.voice
        self.modalities = list(patch.output_modalities or self.modalities)
        self.tools = [tool.model_dump() for tool in patch.tools] if patch.tools is not None else self.tools
        self.tool_choice = choice or self.tool_choice
        self.max_output_tokens = patch.max_output_tokens or self.max_output_tokens

    def request(self, patch: ReplyPatch | None = None) -> ReplyRequest:
        """How a reply is made: the session's settings, with a response's overrides."""
        patch = patch or ReplyPatch()
        if patch.conversation not in (None, "auto") or patch.input is not None:
            raise ConfigRefused("out-of-band responses (conversation/input) are not supported", "response.conversation")
        choice = check_choice(patch.tool_choice, "response.tool_choice") or self.tool_choice
        check_tokens(patch.max_output_tokens, "response.max_output_tokens")
        tools = [t.model_dump() for t in patch.tools] if patch.tools is not None else self.tools
        limit = patch.max_output_tokens or self.max_output_tokens
        return ReplyRequest(
            instructions=patch.instructions, speak="audio" in (patch.output_modalities or self.modalities),
            client_tools=tuple(tool_spec(tool) for tool in tools), tool_choice=choice,
            max_output_tokens=None if limit == "inf" else limit,
        )  # fmt: skip

    def turn_config(self, base: TurnConfig) -> TurnConfig:
        detection = self.turn_detection or {}
        preroll = max(int(detection.get("prefix_padding_ms", base.preroll_ms)), base.start_ms)
        return dataclasses.replace(
            base, end_silence_ms=int(detection.get("silence_duration_ms", base.end_silence_ms)), preroll_ms=preroll
        )

    def to_wire(self) -> dict[str, Any]:
        audio_format = {"type": "audio/pcm", "rate": SAMPLE_RATE}
        return {
            "type": "realtime", "object": "realtime.session", "id": self.id, "model": self.model,
            "output_modalities": self.modalities, "instructions": self.instructions,
            "audio": {
                "input": {"format": audio_format, "turn_detection": self.turn_detection,
                          "transcription": self.transcription, "noise_reduction": None},
                "output": {"format": audio_format, "voice": self.voice, "speed": 1.0},
            },
            "tools": self.tools, "tool_choice": self.tool_choice, "max_output_tokens": self.max_output_tokens,
        }  # fmt: skip


def tool_spec(tool: dict[str, Any]) -> ToolSpec:
    """A Realtime function tool in the chat completions shape the LLM contract takes."""
    return {"type": "function", "function": {
        "name": tool["name"], "description": tool.get("description", ""), "parameters": tool["parameters"],
    }}  # fmt: skip
