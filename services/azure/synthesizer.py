"""The Azure Speech SDK's synthesizer, behind a narrow handle.

One synthesizer (and its connection) per session, opened ahead of the first sentence; the
SDK's callbacks (audio as it is synthesized, word boundaries, the end) are translated into
plain events on the SDK's thread and handed to whoever waits for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from services.azure.speech import connect_signals
from services.base import WordTiming

TICKS_PER_MS = 10_000  # the SDK counts in 100 ns ticks
SynthesisKind = Literal["audio", "word", "done", "canceled"]


@dataclass(frozen=True)
class SynthesisEvent:
    kind: SynthesisKind
    audio: bytes = b""
    word: WordTiming | None = None
    code: str = ""
    details: str = ""


class SynthesizerHandle(Protocol):
    def speak(self, ssml: str) -> None:
        """Start synthesizing (returns at once); events follow."""

    def stop(self) -> None:
        """Stop the synthesis under way (blocking: call on a thread)."""


SynthesizerFactory = Callable[[Callable[[SynthesisEvent], None]], SynthesizerHandle]


def translate_synthesis(kind: str, evt: Any) -> SynthesisEvent | None:
    if kind == "synthesizing":
        audio = bytes(evt.result.audio_data or b"")
        return SynthesisEvent("audio", audio=audio) if audio else None
    if kind == "synthesis_word_boundary":
        if evt.boundary_type.name != "Word":
            return None
        start = evt.audio_offset / TICKS_PER_MS
        return SynthesisEvent("word", word=WordTiming(evt.text, start, start + evt.duration.total_seconds() * 1000))
    if kind == "synthesis_completed":
        return SynthesisEvent("done")
    if kind == "synthesis_canceled":
        details = evt.result.cancellation_details
        return SynthesisEvent("canceled", code=details.error_code.name, details=str(details.error_details or ""))
    return None


class SDKSynthesizer:
    SIGNALS = ("synthesizing", "synthesis_word_boundary", "synthesis_completed", "synthesis_canceled")

    def __init__(self, config: Any, on_event: Callable[[SynthesisEvent], None]) -> None:
        import azure.cognitiveservices.speech as speechsdk

        config.set_speech_synthesis_output_format(speechsdk.SpeechSynthesisOutputFormat.Raw24Khz16BitMonoPcm)
        self._synthesizer = speechsdk.SpeechSynthesizer(speech_config=config, audio_config=None)
        connect_signals(self._synthesizer, self.SIGNALS, translate_synthesis, on_event)
        speechsdk.Connection.from_speech_synthesizer(self._synthesizer).open(True)  # connect before the first sentence

    def speak(self, ssml: str) -> None:
        self._synthesizer.start_speaking_ssml_async(ssml)

    def stop(self) -> None:
        self._synthesizer.stop_speaking_async().get()
