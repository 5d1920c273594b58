"""TTS over MiniMax T2A v2: one HTTPS POST per sentence with `stream: true`; the answer is
server-sent events, each carrying a piece of the audio as hex, forwarded as it arrives.

The last event repeats the whole audio with `extra_info` and is skipped. MiniMax reports
failures in `base_resp.status_code` (often with HTTP 200); each maps to an error code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx2

from config import ConfigProblem
from services.base import TTSCapabilities, TTSChunk
from services.errors import ProviderError, ProviderTimeout, ProviderUnavailable, RateLimited
from services.minimax.settings import MiniMaxSettings
from services.retry import RetryPolicy, parse_retry_after, retry_before_first
from services.shared import SharedResources
from services.sse import SSEDecoder
from utils.audio import EvenBytes, StreamResampler

RATES = (8000, 16000, 22050, 24000, 32000, 44100)  # what T2A v2 can send
ERROR_BODY_BYTES = 4096
RATE_LIMIT_CODES = (1002, 1039)
RETRYABLE_CODES = (1000, 1001, 1024)  # unknown, timeout, internal


class MiniMaxTTS:
    uses_shared = True
    capabilities = TTSCapabilities(word_timings=False)

    def __init__(self, settings: MiniMaxSettings, *, shared: SharedResources) -> None:
        self._settings = settings
        timeout = httpx2.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
        self._client: httpx2.AsyncClient = shared.get(
            ("minimax", settings.connect_timeout_s, settings.read_timeout_s),
            lambda: httpx2.AsyncClient(timeout=timeout),
        )
        self._retry = RetryPolicy(attempts=settings.retries + 1)

    @classmethod
    def problems(cls, settings: MiniMaxSettings) -> list[ConfigProblem]:
        return settings.problems()

    async def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        native = sample_rate if sample_rate in RATES else 24000
        resampler = StreamResampler(native, sample_rate)
        async for pcm in retry_before_first(lambda: self._pcm(text, voice, native), self._retry):
            if out := resampler.process(pcm):
                yield TTSChunk(out)
        if tail := resampler.flush():
            yield TTSChunk(tail)

    def _payload(self, text: str, voice: str, rate: int) -> dict[str, Any]:
        s = self._settings
        voice_setting: dict[str, Any] = {"voice_id": voice or s.voice, "speed": s.speed, "vol": 1.0, "pitch": 0}
        if s.emotion:
            voice_setting["emotion"] = s.emotion
        audio = {"sample_rate": rate, "format": "pcm", "channel": 1}
        return {"model": s.model, "text": text, "stream": True, "voice_setting": voice_setting, "audio_setting": audio}

    async def _pcm(self, text: str, voice: str, rate: int) -> AsyncGenerator[bytes, None]:
        s = self._settings
        headers = {"Authorization": f"Bearer {s.api_key.get_secret_value()}", "Content-Type": "application/json"}
        try:
            request = self._client.stream(
                "POST",
                s.base_url,
                params={"GroupId": s.group_id},
                json=self._payload(text, voice, rate),
                headers=headers,
            )
            async with request as response:
                if response.status_code != 200 or "event-stream" not in response.headers.get("content-type", ""):
                    raise await _failure(response)
                async for pcm in _audio(response):
                    yield pcm
        except httpx2.TimeoutException:
            raise ProviderTimeout("tts", "MiniMax did not answer in time", retryable=True) from None
        except httpx2.TransportError as error:
            raise ProviderUnavailable("tts", f"the connection to MiniMax failed ({type(error).__name__})") from None


async def _audio(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The PCM of each event, as it arrives."""
    decoder, even = SSEDecoder(), EvenBytes()
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            try:
                data = json.loads(event.data)
                _check(data.get("base_resp"), response.headers)
                if "extra_info" in data:
                    return  # the summary, repeating all the audio
                pcm = even(bytes.fromhex((data.get("data") or {}).get("audio") or ""))
            except (ValueError, AttributeError, TypeError):
                raise ProviderError("tts", "MiniMax sent an event that is not valid") from None
            if pcm:
                yield pcm


async def _failure(response: httpx2.Response) -> ProviderError:
    """The error for a response that is not an event stream (an HTTP error or a JSON failure)."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_BYTES:
            break
    status = response.status_code
    if status == 429:
        return RateLimited("tts", "MiniMax is rate limiting (429)", retry_after_s=parse_retry_after(response.headers))
    if status >= 500:
        return ProviderUnavailable("tts", f"MiniMax failed ({status})")
    if status in (401, 403):
        return ProviderError("tts", f"MiniMax refused the credentials ({status}); check MINIMAX_API_KEY")
    try:
        _check(json.loads(body).get("base_resp"), response.headers)
    except ProviderError as error:
        return error
    except (ValueError, AttributeError):
        pass
    return ProviderError("tts", f"MiniMax answered {status} without audio")


def _check(base: dict[str, Any] | None, headers: httpx2.Headers) -> None:
    """Raise the error MiniMax reports in `base_resp`, if any."""
    if not base or not base.get("status_code"):
        return
    code, said = int(base["status_code"]), str(base.get("status_msg", ""))[:120]
    if code in RATE_LIMIT_CODES:
        raise RateLimited("tts", f"MiniMax is rate limiting ({code} {said})", retry_after_s=parse_retry_after(headers))
    if code in RETRYABLE_CODES:
        raise ProviderUnavailable("tts", f"MiniMax failed ({code} {said})")
    if code == 1004:
        raise ProviderError("tts", "MiniMax refused the credentials (1004); check MINIMAX_API_KEY and MINIMAX_GROUP_ID")
    raise ProviderError("tts", f"MiniMax refused the request ({code} {said})")
