"""The MiniMax TTS provider against a fake of T2A v2's streamed (SSE, hex audio) answers."""

from __future__ import annotations

import asyncio

import pytest

from services.errors import ProviderError
from tests.cloud.conftest import Build
from tests.fakes.behaviour import Behaviour
from tests.fakes.cloud import MINIMAX_GROUP, MINIMAX_KEY, FakeCloud
from tests.fakes.openai_fake import MS_PER_CHAR

TEXT = "The ships sail on the ocean, and they come home at night."


async def speak(tts: object, rate: int = 24000) -> tuple[bytes, float | None]:
    loop, first_at, pcm = asyncio.get_running_loop(), None, b""
    async for chunk in tts.synthesize(TEXT, voice="", language="en-US", sample_rate=rate):  # type: ignore[attr-defined]
        first_at = first_at or loop.time()
        pcm += chunk.pcm
    return pcm, first_at


async def test_audio_is_forwarded_as_each_event_arrives_and_the_summary_is_skipped(
    cloud: FakeCloud, build: Build
) -> None:
    cloud.script.queue("t2a", Behaviour(gap_s=0.1))
    pcm, first_at = await speak(build("tts", "minimax", minimax_voice="Calm_Woman", minimax_speed=1.1))
    (call,) = cloud.script.of("t2a")
    assert call.finished is not None and first_at is not None and first_at < call.finished - 0.5
    assert len(pcm) / 2 / 24000 == pytest.approx(len(TEXT) * MS_PER_CHAR / 1000, abs=0.01), "audio once, not twice"
    assert call.query["GroupId"] == MINIMAX_GROUP and call.headers["authorization"] == f"Bearer {MINIMAX_KEY}"
    body = call.body
    assert body["stream"] is True and body["voice_setting"]["voice_id"] == "Calm_Woman"
    assert body["audio_setting"] == {"sample_rate": 24000, "format": "pcm", "channel": 1}


async def test_a_rate_the_service_has_is_asked_for_directly(cloud: FakeCloud, build: Build) -> None:
    pcm, _ = await speak(build("tts", "minimax"), rate=16000)
    assert cloud.script.of("t2a")[0].body["audio_setting"]["sample_rate"] == 16000
    assert len(pcm) / 2 / 16000 == pytest.approx(len(TEXT) * MS_PER_CHAR / 1000, abs=0.01)


@pytest.mark.parametrize(
    ("base_resp", "code", "said"),
    [
        ({"status_code": 1004, "status_msg": "token not match group"}, "provider_failed", "credentials"),
        ({"status_code": 1002, "status_msg": "rate limit"}, "rate_limited", "rate limiting"),
        ({"status_code": 2013, "status_msg": "invalid params"}, "provider_failed", "2013"),
    ],
)
async def test_failures_in_base_resp_map_to_error_codes(
    cloud: FakeCloud, build: Build, base_resp: dict[str, object], code: str, said: str
) -> None:
    cloud.script.queue("t2a", *[Behaviour(error_body=base_resp)] * 3)
    with pytest.raises(ProviderError) as raised:
        await speak(build("tts", "minimax", minimax_retries=0))
    assert raised.value.code == code and said in str(raised.value) and MINIMAX_KEY not in str(raised.value)


async def test_http_failures_before_audio_are_retried(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("t2a", Behaviour(status=429, retry_after="0.3"), Behaviour(status=500))
    pcm, _ = await speak(build("tts", "minimax"))
    first, _, third = cloud.script.of("t2a")
    assert pcm and third.started - first.started >= 0.3


async def test_a_stream_cut_after_audio_is_an_error(cloud: FakeCloud, build: Build) -> None:
    cloud.script.queue("t2a", Behaviour(drop_after=1))
    with pytest.raises(ProviderError) as raised:
        await speak(build("tts", "minimax"))
    assert raised.value.code == "provider_failed" and len(cloud.script.of("t2a")) == 1
