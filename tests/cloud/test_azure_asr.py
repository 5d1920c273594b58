"""Azure Speech ASR without the service: SDK events constructed with the SDK's own enums drive the
translation, the segments of a session's recognizer, commits, reconnection and shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import azure.cognitiveservices.speech as speechsdk
import pytest

from services.azure.asr import AzureASR, AzureSegment
from services.azure.recognizer import AzureEvent, translate
from services.azure.settings import AzureASRSettings, AzureSpeechSettings
from services.base import ASRResult
from services.errors import ProviderError


def sdk_result(reason: Any, text: str = "", token: int = 0) -> Any:
    return SimpleNamespace(result=SimpleNamespace(reason=reason, text=text, commit_token=token))


def sdk_canceled(code: Any, details: str = "") -> Any:
    cancellation = SimpleNamespace(reason=speechsdk.CancellationReason.Error, code=code, error_details=details)
    return SimpleNamespace(cancellation_details=cancellation)


def test_sdk_events_translate_to_plain_events() -> None:
    reason = speechsdk.ResultReason
    assert translate("recognizing", sdk_result(reason.RecognizingSpeech, "tell me")) == AzureEvent(
        "recognizing", "tell me"
    )
    assert translate("recognized", sdk_result(reason.RecognizedSpeech, "Tell me.", 7)) == AzureEvent(
        "recognized", "Tell me.", 7
    )
    assert translate("recognized", sdk_result(reason.NoMatch, token=8)) == AzureEvent("no_match", commit_token=8)
    assert translate("recognizing", sdk_result(reason.NoMatch)) is None
    canceled = translate("canceled", sdk_canceled(speechsdk.CancellationErrorCode.ServiceTimeout, "idle"))
    assert canceled == AzureEvent("canceled", reason="Error", code="ServiceTimeout", details="idle")
    assert translate("session_stopped", SimpleNamespace()) == AzureEvent("session_stopped")


class FakeRecognizer:
    """Stands in for the SDK's recognizer: records what it is given; the test plays the service."""

    def __init__(self, language: str, on_event: Callable[[AzureEvent], None]) -> None:
        self.language, self.on_event = language, on_event
        self.audio = bytearray()
        self.started = self.stopped = False
        self.commits = 0
        self.refuse_commits = False

    def start(self) -> None:
        self.started = True

    def write(self, pcm: bytes) -> None:
        self.audio.extend(pcm)

    def commit(self) -> int:
        if self.refuse_commits:
            return 0
        self.commits += 1
        return 100 + self.commits

    def stop(self) -> None:
        self.stopped = True


class Service:
    """The recognizers an AzureASR made, newest last."""

    def __init__(self) -> None:
        self.recognizers: list[FakeRecognizer] = []

    def factory(self, language: str, on_event: Callable[[AzureEvent], None]) -> FakeRecognizer:
        self.recognizers.append(FakeRecognizer(language, on_event))
        return self.recognizers[-1]

    @property
    def now(self) -> FakeRecognizer:
        return self.recognizers[-1]

    def say(self, *events: AzureEvent) -> None:
        for event in events:
            self.now.on_event(event)


def azure(service: Service, **settings: Any) -> AzureASR:
    speech = AzureSpeechSettings(_env_file=None, key="k" * 32, region="westeurope")
    return AzureASR(speech, AzureASRSettings(_env_file=None, **settings), factory=service.factory)


async def collect(segment: AzureSegment) -> list[ASRResult]:
    return [result async for result in segment.results()]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_recognizer_serves_the_session_and_each_turn_ends_at_its_commit() -> None:
    service = Service()
    asr = azure(service)
    asr.open_session("en-US")
    assert len(service.recognizers) == 1 and service.now.started, "connected before the first turn"
    for turn, words in enumerate(("tell me", "about rivers"), start=1):
        segment = asr.open_stream("en-US")
        reader = asyncio.create_task(collect(segment))
        segment.push(b"\x01\x00" * 320)
        service.say(AzureEvent("recognizing", words.split()[0]), AzureEvent("recognized", words + "."))
        segment.finish()
        await settle()
        service.say(AzureEvent("no_match", commit_token=100 + turn))
        results = await asyncio.wait_for(reader, 1)
        assert results == [
            ASRResult(words.split()[0], False), ASRResult(words + ".", False), ASRResult(words + ".", True)
        ]  # fmt: skip
        await segment.aclose()
    assert len(service.recognizers) == 1 and bytes(service.now.audio) == b"\x01\x00" * 640
    await asyncio.wait_for(asr.aclose(), 2)
    assert service.now.stopped


async def test_the_final_waits_for_words_still_pending_when_the_turn_ends() -> None:
    service = Service()
    segment = azure(service).open_stream("en-US")
    reader = asyncio.create_task(collect(segment))
    service.say(AzureEvent("recognized", "Hello."), AzureEvent("recognizing", "how are"))
    segment.finish()
    await settle()
    service.say(AzureEvent("recognized", "How are you?", commit_token=101))
    results = await asyncio.wait_for(reader, 1)
    assert results[-1] == ASRResult("Hello. How are you?", is_final=True)


@pytest.mark.looptime
async def test_an_unacknowledged_commit_ends_the_turn_after_the_timeout() -> None:
    service = Service()
    segment = azure(service, commit_timeout_ms=800).open_stream("en-US")
    service.now.refuse_commits = True
    reader = asyncio.create_task(collect(segment))
    service.say(AzureEvent("recognized", "Hello there."))
    await settle()
    started = asyncio.get_running_loop().time()
    segment.finish()
    results = await reader
    assert asyncio.get_running_loop().time() - started == pytest.approx(0.8)
    assert results[-1] == ASRResult("Hello there.", is_final=True)


async def test_a_dropped_session_reconnects_and_hears_the_turn_again() -> None:
    service = Service()
    asr = azure(service, reconnects=2)
    segment = asr.open_stream("en-US")
    reader = asyncio.create_task(collect(segment))
    segment.push(b"\x02\x00" * 640)
    first = service.now
    service.say(AzureEvent("recognized", "tell me"))
    service.say(AzureEvent("canceled", reason="Error", code="ServiceTimeout", details="timeout"))
    await asyncio.sleep(0.5)
    assert len(service.recognizers) == 2 and bytes(service.now.audio) == b"\x02\x00" * 640, "the turn heard again"
    first.on_event(AzureEvent("recognized", "a late word from the old session"))  # ignored
    segment.finish()
    await settle()
    service.say(AzureEvent("recognized", "tell me about rivers", commit_token=101))
    results = await asyncio.wait_for(reader, 2)
    assert results[-1] == ASRResult("tell me about rivers", is_final=True)
    await asr.aclose()
    assert first.stopped and service.now.stopped


@pytest.mark.parametrize(
    ("code", "reconnects", "error_code", "said"),
    [
        ("AuthenticationFailure", 2, "provider_failed", "AZURE_SPEECH_KEY"),
        ("TooManyRequests", 0, "rate_limited", "rate limiting"),
        ("ConnectionFailure", 0, "provider_failed", "ConnectionFailure"),
    ],
)
async def test_a_cancellation_that_cannot_be_recovered_fails_the_turn(
    code: str, reconnects: int, error_code: str, said: str
) -> None:
    service = Service()
    segment = azure(service, reconnects=reconnects).open_stream("en-US")
    reader = asyncio.create_task(collect(segment))
    service.say(AzureEvent("canceled", reason="Error", code=code))
    with pytest.raises(ProviderError) as raised:
        await asyncio.wait_for(reader, 2)
    assert raised.value.code == error_code and said in str(raised.value)


async def test_a_new_language_starts_a_new_recognizer() -> None:
    service = Service()
    asr = azure(service)
    asr.open_session("en-US")
    asr.open_stream("de-DE")
    assert [r.language for r in service.recognizers] == ["en-US", "de-DE"]
    await asr.aclose()
    assert all(r.stopped for r in service.recognizers)
