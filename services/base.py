"""The three provider contracts, and the capabilities of an engine that the core reads.

Shaped so that every kind of engine fits without the core knowing its name:
- ASR: audio is pushed synchronously (never blocking the audio path) and results are
  read as an async stream: partials, exactly one final, then the end. Streaming engines
  (push streams, realtime sockets) and per-utterance ones (Whisper) both fit.
- LLM: a list of chat messages (OpenAI's shape) in, typed events out: text deltas,
  tool-call deltas, usage, and one finish.
- TTS: audio chunks for one piece of text; engines with word timings attach them.
Every call is bounded by the core's step timeouts; providers raise services.errors, each
of which maps to an error code the client sees. tests/contract/ holds every provider to this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Required, TypedDict

from utils.aio import bounded


class ChatFunctionCall(TypedDict):
    name: str
    arguments: str  # JSON text


class ChatToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: ChatFunctionCall


class ToolFunctionSpec(TypedDict):
    name: str
    description: str
    parameters: dict[str, object]  # JSON schema of the arguments


class ToolSpec(TypedDict):
    """A tool offered to the LLM, in OpenAI's chat completions shape."""

    type: Literal["function"]
    function: ToolFunctionSpec


class ChatMessage(TypedDict, total=False):
    role: Required[Literal["system", "user", "assistant", "tool"]]
    content: Required[str]
    tool_calls: list[ChatToolCall]
    tool_call_id: str


@dataclass(frozen=True)
class ASRCapabilities:
    sample_rate: int = 16000  # the rate of the audio the core passes to push()
    # One recognizer for the whole session (a connection kept open): the core calls
    # open_session() when the conversation begins and aclose() when it ends.
    session_stream: bool = False
    # Its streams can decode the audio so far as the final would, without ending (draft()):
    # a reply can start before the turn is over, and the final need not be decoded again.
    drafts: bool = False
    # Its transcripts end a finished sentence with ".", "?" or "!" (Whisper does, and marks one
    # cut short with "..." or "-"): a draft without that ending stops mid-sentence.
    punctuates: bool = False


@dataclass(frozen=True)
class TTSCapabilities:
    word_timings: bool  # chunks carry WordTiming entries for every word they voice


@dataclass(frozen=True)
class LLMCapabilities:
    tools: bool = False  # the LLM takes `tools` and answers with tool calls
    concurrent: bool = True  # requests run side by side (False: one at a time, as a local model does)


@dataclass(frozen=True)
class ASRResult:
    text: str
    is_final: bool


@dataclass(frozen=True)
class WordTiming:
    """A word's place in the synthesized audio of one text, in ms from that audio's start."""

    word: str
    start_ms: float
    end_ms: float


@dataclass(frozen=True)
class TTSChunk:
    pcm: bytes  # PCM16 little-endian mono at the requested sample rate
    words: tuple[WordTiming, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call; `index` tells calls of one reply apart, id and name come first."""

    index: int
    call_id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True)
class Finish:
    reason: FinishReason


LLMEvent = TextDelta | ToolCallDelta | Usage | Finish


class ASRStream(Protocol):
    def push(self, pcm16: bytes) -> None:
        """Add audio (PCM16 mono at capabilities.sample_rate). Must return at once."""

    def finish(self) -> None:
        """No more audio will come; the results stream ends after the final result."""

    def results(self) -> AsyncIterator[ASRResult]:
        """Partial results, then exactly one final result, then the end of the stream."""

    async def aclose(self) -> None:
        """Release the engine's resources; safe to call at any point, more than once."""


class DraftingASRStream(ASRStream, Protocol):
    """A stream of an ASR whose capabilities say drafts."""

    async def draft(self) -> str:
        """The final transcript of the audio pushed so far, the stream left open."""


class ASR(Protocol):
    capabilities: ASRCapabilities

    def open_stream(self, language: str) -> ASRStream: ...


class SessionASR(ASR, Protocol):
    """An ASR whose capabilities say session_stream."""

    def open_session(self, language: str) -> None:
        """Connect now, before the first turn (returns at once)."""

    async def aclose(self) -> None:
        """End the session's recognizer."""


class LLM(Protocol):
    capabilities: LLMCapabilities

    def stream(self, messages: list[ChatMessage], tools: Sequence[ToolSpec] = ()) -> AsyncIterator[LLMEvent]:
        """The reply to `messages`: deltas, maybe usage, then one Finish as the last event. `tools`
        are offered only to an LLM whose capabilities say so."""

    def count_tokens(self, text: str) -> int | None:
        """Tokens of `text` by the model's own tokenizer, or None where it has none at hand."""


class TTS(Protocol):
    capabilities: TTSCapabilities

    def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        """Audio of `text` at `sample_rate`, streamed in chunks of even length."""


@dataclass(frozen=True)
class Providers:
    asr: ASR
    llm: LLM
    tts: TTS

    async def aclose(self) -> None:
        """Release what the session's providers hold (a session recognizer, a synthesizer)."""
        for provider in (self.asr, self.llm, self.tts):
            close = getattr(provider, "aclose", None)
            if close is not None:
                await bounded(close(), 5.0, f"closing {type(provider).__name__}")
