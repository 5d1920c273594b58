"""A simulated Azure Speech service behind the SDK handles, for the contract suite: it
"recognizes" pushed audio (a growing hypothesis per 300 ms, the phrase at each commit) and
"synthesizes" a tone with word boundaries, on threads of its own as the SDK does. A key
that is not the simulated resource's is refused as the service would (AuthenticationFailure).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from services.azure.asr import AzureASR
from services.azure.recognizer import AzureEvent
from services.azure.settings import AzureASRSettings, AzureSpeechSettings, AzureTTSSettings
from services.azure.synthesizer import SynthesisEvent
from services.azure.tts import AzureTTS
from services.base import WordTiming
from tests.fakes.openai_fake import MS_PER_CHAR, speech_pcm

KEY = "azure-sim-key-0123456789"
PHRASE = "tell me about the ocean"
BYTES_PER_WORD = 9600  # 300 ms at 16 kHz


class SimRecognizer:
    def __init__(self, key: str, on_event: Callable[[AzureEvent], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_event = on_event
        self._key = key
        self._heard = 0
        self._token = 0

    def _send(self, event: AzureEvent) -> None:
        self._loop.call_soon_threadsafe(self._on_event, event)  # as from an SDK thread

    def start(self) -> None:
        if self._key != KEY:
            self._send(AzureEvent("canceled", reason="Error", code="AuthenticationFailure", details="401"))

    def write(self, pcm: bytes) -> None:
        before, self._heard = self._heard, self._heard + len(pcm)
        if self._key == KEY and self._heard // BYTES_PER_WORD > before // BYTES_PER_WORD:
            words = PHRASE.split()[: min(self._heard // BYTES_PER_WORD, 5)]
            self._send(AzureEvent("recognizing", " ".join(words)))

    def commit(self) -> int:
        self._token += 1
        if self._key == KEY:
            text, self._heard = (PHRASE if self._heard else ""), 0
            self._send(AzureEvent("recognized" if text else "no_match", text, commit_token=self._token))
        return self._token

    def stop(self) -> None:
        time.sleep(0.01)


class SimSynthesizer:
    def __init__(self, key: str, on_event: Callable[[SynthesisEvent], None]) -> None:
        self._key, self._on_event = key, on_event
        self._stop = threading.Event()

    def speak(self, ssml: str) -> None:
        self._stop.clear()
        threading.Thread(target=self._play, args=(ssml,), daemon=True).start()

    def _play(self, ssml: str) -> None:
        if self._key != KEY:
            self._on_event(SynthesisEvent("canceled", code="AuthenticationFailure", details="401"))
            return
        text = ssml.split(">")[-3].split("<")[0]  # the text inside <voice>
        start = 0.0
        for word in text.split():
            ms = len(word) * MS_PER_CHAR
            self._on_event(SynthesisEvent("word", word=WordTiming(word, start, start + ms)))
            start += ms + MS_PER_CHAR
        pcm = speech_pcm(text)
        for offset in range(0, len(pcm), 4800):
            if self._stop.wait(0.005):
                return
            self._on_event(SynthesisEvent("audio", audio=pcm[offset : offset + 4800]))
        self._on_event(SynthesisEvent("done"))

    def stop(self) -> None:
        self._stop.set()


def speech_settings(settings: dict[str, Any]) -> AzureSpeechSettings:
    return AzureSpeechSettings(_env_file=None, key=settings.get("azure_speech_key", KEY), region="sim")


def simulated_asr(settings: dict[str, Any]) -> AzureASR:
    speech = speech_settings(settings)
    key = speech.key.get_secret_value()
    return AzureASR(speech, AzureASRSettings(_env_file=None), factory=lambda _lang, on: SimRecognizer(key, on))


def simulated_tts(settings: dict[str, Any]) -> AzureTTS:
    speech = speech_settings(settings)
    key = speech.key.get_secret_value()
    return AzureTTS(speech, AzureTTSSettings(_env_file=None), factory=lambda on: SimSynthesizer(key, on))
