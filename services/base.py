"""The three provider contracts, and the capabilities each engine declares.

They are shaped so that every kind of engine fits without the core knowing its name:
- ASR: audio is pushed synchronously (never blocking the audio path) and results are
  read as an async stream. A streaming engine (Azure push streams, a realtime WebSocket)
  yields partials as audio arrives; a per-utterance engine (Whisper) decodes after
  `finish()` and may yield partials from re-decoding at a bounded rate.
- LLM: streams text deltas for a list of chat messages (OpenAI's shape, so SSE engines fit).
- TTS: streams audio chunks for one piece of text; engines with word timings attach them.
Every network or engine call is bounded by the core's timeouts; providers raise the
errors of services.errors so the client gets a clear error code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    role: str
    content: str


@dataclass(frozen=True)
class ASRCapabilities:
    streaming_partials: bool  # partial results while audio streams in
    per_utterance: bool  # the final result needs the whole utterance (decoded after finish)
    sample_rate: int = 16000  # the rate of audio passed to push()


@dataclass(frozen=True)
class LLMCapabilities:
    streaming: bool = True


@dataclass(frozen=True)
class TTSCapabilities:
    streaming: bool  # audio of one text arrives in several chunks
    word_timings: bool  # chunks carry WordTiming entries


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


class ASRStream(Protocol):
    def push(self, pcm16: bytes) -> None:
        """Add audio (PCM16 mono at capabilities.sample_rate). Must return at once."""

    def finish(self) -> None:
        """No more audio will come; the results stream ends after the final result."""

    def results(self) -> AsyncIterator[ASRResult]:
        """Partial results, then one final result, then the end of the stream."""

    async def aclose(self) -> None:
        """Release the engine's resources; safe to call at any point, more than once."""


class ASR(Protocol):
    capabilities: ASRCapabilities

    def open_stream(self, language: str) -> ASRStream: ...


class LLM(Protocol):
    capabilities: LLMCapabilities

    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """Text deltas of the assistant's reply to `messages`."""


class TTS(Protocol):
    capabilities: TTSCapabilities

    def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        """Audio of `text` at `sample_rate`, streamed in chunks."""


@dataclass(frozen=True)
class Providers:
    asr: ASR
    llm: LLM
    tts: TTS
