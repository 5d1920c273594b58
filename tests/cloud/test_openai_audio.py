"""The OpenAI ASR and TTS providers against fakes of the transcription and speech APIs."""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Any

import pytest

from services.base import ASRResult
from services.errors import ProviderError
from tests.cloud.conftest import Build
from tests.fakes.behaviour import Behaviour
from tests.fakes.cloud import FakeCloud
from tests.fakes.openai_fake import MS_PER_CHAR

AUDIO = bytes(range(256)) * 125  # 1 s of (not silent) 16 kHz PCM16


async def transcribe(asr: Any, audio: bytes = AUDIO) -> list[ASRResult]:
    stream = asr.open_stream("en-GB")
    for offset in range(0, len(audio), 640):
        stream.push(audio[offset : offset + 640])
    stream.finish()
    results = [r async for r in stream.results()]
    await stream.aclose()
    return results


async def test_a_streaming_model_gives_deltas_as_partials_then_the_final(cloud: FakeCloud, build: Build) -> None:
    results = await transcribe(build("asr", "openai", openai_asr_model="gpt-4o-mini-transcribe"))
    assert [r.text for r in results if not r.is_final] == [
        "tell", "tell me", "tell me about", "tell me about the", "tell me about the ocean"
    ]  # fmt: skip
    assert results[-1] == ASRResult("tell me about the ocean", is_final=True)
    (call,) = cloud.script.of("transcriptions")
    assert (call.body["model"], call.body["language"], call.body["stream"]) == ("gpt-4o-mini-transcribe", "en", "true")
    with wave.open(io.BytesIO(call.body["audio"])) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.readframes(wav.getnframes())) == (16000, 1, AUDIO)


async def test_whisper_1_answers_whole(cloud: FakeCloud, build: Build) -> None:
    results = await transcribe(build("asr", "openai", openai_asr_model="whisper-1", openai_asr_prompt="Parley"))
    assert results == [ASRResult("tell me about the ocean", is_final=True)]
    (call,) = cloud.script.of("transcriptions")
    assert "stream" not in call.body and call.body["prompt"] == "Parley"


async def test_a_transcription_that_fails_first_is_retried(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("transcriptions", Behaviour(status=502), Behaviour(status=429, retry_after="0.2"))
    results = await transcribe(build("asr", "openai"))
    assert results[-1].text == "tell me about the ocean" and len(cloud.script.of("transcriptions")) == 3


async def test_silence_costs_no_request(cloud: FakeCloud, build: Build) -> None:
    assert await transcribe(build("asr", "openai"), audio=b"") == [ASRResult("", is_final=True)]
    assert cloud.script.of("transcriptions") == []


async def test_speech_streams_pcm_as_it_arrives(cloud: FakeCloud, build: Build) -> None:
    text = "The ships sail on the ocean."
    cloud.script.queue("speech", Behaviour(gap_s=0.1))
    tts = build("tts", "openai", openai_tts_model="gpt-4o-mini-tts", openai_tts_instructions="Warmly.")
    loop = asyncio.get_running_loop()
    first_at, pcm = None, b""
    async for chunk in tts.synthesize(text, voice="nova", language="en-US", sample_rate=16000):
        first_at = first_at or loop.time()
        pcm += chunk.pcm
    (call,) = cloud.script.of("speech")
    assert call.finished is not None and first_at is not None and first_at < call.finished - 0.3, (
        "forwarded before the end"
    )
    assert len(pcm) / 2 / 16000 == pytest.approx(len(text) * MS_PER_CHAR / 1000, abs=0.01), "resampled, none lost"
    body = call.body
    assert (body["voice"], body["response_format"], body["instructions"]) == ("nova", "pcm", "Warmly.")


async def test_speech_that_breaks_after_audio_is_an_error_not_a_retry(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("speech", Behaviour(drop_after=2))
    with pytest.raises(ProviderError) as raised:
        async for _ in build("tts", "openai").synthesize(
            "A long sentence. " * 5, voice="", language="en", sample_rate=24000
        ):
            pass
    assert raised.value.code == "provider_failed" and len(cloud.script.of("speech")) == 1
