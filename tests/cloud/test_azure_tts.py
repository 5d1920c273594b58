"""Azure Speech TTS without the service: SSML escaping, audio and word boundaries from
constructed synthesizer events, cancellation, and a cut that stops the synthesis."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import cast

import azure.cognitiveservices.speech as speechsdk
import pytest

from services.azure.settings import AzureSpeechSettings, AzureTTSSettings
from services.azure.synthesizer import SynthesisEvent, translate_synthesis
from services.azure.tts import AzureTTS, build_ssml
from services.base import TTSChunk, WordTiming
from services.errors import ProviderError

PCM_100MS = b"\x10\x00" * 2400  # 100 ms at 24 kHz


def test_ssml_escapes_the_text_so_it_never_becomes_markup() -> None:
    ssml = build_ssml('Tom & Jerry say "<b>hi</b>"', "en-US-AvaMultilingualNeural", "en-US", "cheerful", "+10%")
    root = ElementTree.fromstring(ssml)
    voice = root.find("{http://www.w3.org/2001/10/synthesis}voice")
    assert voice is not None and voice.get("name") == "en-US-AvaMultilingualNeural"
    assert "".join(voice.itertext()) == 'Tom & Jerry say "<b>hi</b>"'
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert 'style="cheerful"' in ssml and 'rate="+10%"' in ssml
    assert "<b>" not in ssml


def test_sdk_synthesis_events_translate_to_audio_words_and_ends() -> None:
    audio = SimpleNamespace(result=SimpleNamespace(audio_data=PCM_100MS))
    assert translate_synthesis("synthesizing", audio) == SynthesisEvent("audio", audio=PCM_100MS)
    word = SimpleNamespace(boundary_type=speechsdk.SpeechSynthesisBoundaryType.Word, text="ships",
                           audio_offset=1_500_000, duration=timedelta(milliseconds=300))  # fmt: skip
    assert translate_synthesis("synthesis_word_boundary", word) == SynthesisEvent(
        "word", word=WordTiming("ships", 150.0, 450.0)
    )
    punctuation = SimpleNamespace(boundary_type=speechsdk.SpeechSynthesisBoundaryType.Punctuation)
    assert translate_synthesis("synthesis_word_boundary", punctuation) is None
    cancellation = SimpleNamespace(
        error_code=speechsdk.CancellationErrorCode.AuthenticationFailure, error_details="401"
    )
    canceled = SimpleNamespace(result=SimpleNamespace(cancellation_details=cancellation))
    assert translate_synthesis("synthesis_canceled", canceled) == SynthesisEvent(
        "canceled", code="AuthenticationFailure", details="401"
    )


class FakeSynthesizer:
    """Plays the service on a thread of its own, as the SDK calls back on its threads."""

    def __init__(self, on_event: Callable[[SynthesisEvent], None], script: list[SynthesisEvent]) -> None:
        self.on_event, self.script = on_event, script
        self.spoken: list[str] = []
        self.stopped = threading.Event()

    def speak(self, ssml: str) -> None:
        self.spoken.append(ssml)
        threading.Thread(target=self._play, daemon=True).start()

    def _play(self) -> None:
        for event in self.script:
            if self.stopped.wait(0.02):
                return
            self.on_event(event)

    def stop(self) -> None:
        self.stopped.set()


def azure_tts(script: list[SynthesisEvent]) -> tuple[AzureTTS, list[FakeSynthesizer]]:
    made: list[FakeSynthesizer] = []

    def factory(on_event: Callable[[SynthesisEvent], None]) -> FakeSynthesizer:
        made.append(FakeSynthesizer(on_event, script))
        return made[-1]

    speech = AzureSpeechSettings(_env_file=None, key="k" * 32, region="westeurope")
    return AzureTTS(speech, AzureTTSSettings(_env_file=None, voice="en-US-JennyNeural"), factory=factory), made


async def test_audio_streams_resampled_with_the_word_timings() -> None:
    script = [
        SynthesisEvent("word", word=WordTiming("Ships", 0, 90)),
        SynthesisEvent("audio", audio=PCM_100MS),
        SynthesisEvent("word", word=WordTiming("sail.", 100, 190)),
        SynthesisEvent("audio", audio=PCM_100MS),
        SynthesisEvent("done"),
    ]
    tts, made = azure_tts(script)
    for _ in range(2):  # one synthesizer (one connection) serves the session's sentences
        chunks = [c async for c in tts.synthesize("Ships sail.", voice="", language="en-US", sample_rate=16000)]
        assert sum(len(c.pcm) for c in chunks) == pytest.approx(2 * 3200, abs=64)
        assert [w.word for c in chunks for w in c.words] == ["Ships", "sail."]
    assert len(made) == 1 and "en-US-JennyNeural" in made[0].spoken[0]


async def test_a_cancellation_is_a_documented_error() -> None:
    tts, _ = azure_tts([SynthesisEvent("canceled", code="TooManyRequests")])
    with pytest.raises(ProviderError) as raised:
        async for _ in tts.synthesize("Hi.", voice="", language="en-US", sample_rate=24000):
            pass
    assert raised.value.code == "rate_limited"


async def test_a_cut_stops_the_synthesis_under_way() -> None:
    tts, made = azure_tts([SynthesisEvent("audio", audio=PCM_100MS)] * 50 + [SynthesisEvent("done")])
    stream = cast(
        AsyncGenerator[TTSChunk, None], tts.synthesize("A long story.", voice="", language="en-US", sample_rate=24000)
    )
    await anext(stream)
    await stream.aclose()
    assert made[0].stopped.is_set()
    made[0].stopped.clear()  # late events of the cut synthesis ...
    threading.Thread(target=made[0]._play, daemon=True).start()
    tts_next = [c async for c in tts.synthesize("Next.", voice="", language="en-US", sample_rate=24000)]
    assert len(made) == 2, "a fresh synthesizer after a cut"
    assert sum(len(c.pcm) for c in tts_next) == 50 * len(PCM_100MS), "... never reach the next sentence"
    made[0].stop()
