"""The Azure Speech SDK's continuous recognizer, behind a narrow handle.

The SDK calls back on its own threads; `translate` turns each SDK event into a plain
`AzureEvent` there, and the handle posts it to the event loop (services/bridge.py), so no
SDK object ever reaches the loop and the logic above can be driven by constructed events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from services.azure.speech import connect_signals
from services.bridge import post

SAMPLE_RATE = 16000
SIGNALS = ("recognizing", "recognized", "canceled", "session_stopped")
EventKind = Literal["recognizing", "recognized", "no_match", "canceled", "session_stopped"]


@dataclass(frozen=True)
class AzureEvent:
    kind: EventKind
    text: str = ""
    commit_token: int = 0
    reason: str = ""  # canceled: CancellationReason name (Error, EndOfStream, CancelledByUser)
    code: str = ""  # canceled: CancellationErrorCode name
    details: str = ""


class RecognizerHandle(Protocol):
    def start(self) -> None:
        """Begin continuous recognition (returns at once)."""

    def write(self, pcm: bytes) -> None:
        """Audio for the service (PCM16 mono 16 kHz); returns at once."""

    def commit(self) -> int:
        """Ask the service to close the segment at the audio written so far; a token, 0 if refused."""

    def stop(self) -> None:
        """Stop recognition and release the connection (blocking: call on a thread)."""


RecognizerFactory = Callable[[str, Callable[[AzureEvent], None]], RecognizerHandle]


def translate(kind: str, evt: Any) -> AzureEvent | None:
    """The plain event for an SDK event (`kind` is the SDK signal's name), or None to ignore it."""
    if kind == "session_stopped":
        return AzureEvent("session_stopped")
    if kind == "canceled":
        details = evt.cancellation_details
        return AzureEvent("canceled", reason=details.reason.name, code=details.code.name,
                          details=str(details.error_details or ""))  # fmt: skip
    result = evt.result
    reason = result.reason.name
    token = int(getattr(result, "commit_token", 0) or 0)
    if kind == "recognizing" and reason == "RecognizingSpeech":
        return AzureEvent("recognizing", result.text or "")
    if kind == "recognized" and reason == "RecognizedSpeech":
        return AzureEvent("recognized", result.text or "", token)
    if kind == "recognized" and reason == "NoMatch":
        return AzureEvent("no_match", commit_token=token)
    return None


class SDKRecognizer:
    """A SpeechRecognizer on a push stream; its events go to `on_event` on the loop."""

    def __init__(self, config: Any, language: str, on_event: Callable[[AzureEvent], None]) -> None:
        import azure.cognitiveservices.speech as speechsdk

        self._loop = asyncio.get_running_loop()
        self._on_event = on_event
        audio_format = speechsdk.audio.AudioStreamFormat(samples_per_second=SAMPLE_RATE, bits_per_sample=16, channels=1)
        self._stream = speechsdk.audio.PushAudioInputStream(stream_format=audio_format)
        config.speech_recognition_language = language
        self._recognizer = speechsdk.SpeechRecognizer(
            speech_config=config, audio_config=speechsdk.audio.AudioConfig(stream=self._stream)
        )
        connect_signals(self._recognizer, SIGNALS, translate, lambda event: post(self._loop, self._on_event, event))

    def start(self) -> None:
        self._recognizer.start_continuous_recognition_async()

    def write(self, pcm: bytes) -> None:
        self._stream.write(pcm)

    def commit(self) -> int:
        return int(self._stream.commit())

    def stop(self) -> None:
        for kind in SIGNALS:
            getattr(self._recognizer, kind).disconnect_all()
        self._stream.close()
        self._recognizer.stop_continuous_recognition_async().get()
