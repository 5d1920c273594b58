"""A local fake of OpenAI's HTTP API, as documented: chat completions streamed as SSE (text,
tool-call deltas, usage, error events), transcriptions (JSON or streamed events) and speech
(raw PCM, chunked). Azure OpenAI's deployment path and `api-key` header are served too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.behaviour import Behaviour, Call, Script

PCM_RATE = 24000
MS_PER_CHAR = 50


class Dropped(Exception):
    """Raised inside a streamed answer: the server cuts the connection mid-body."""


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake", "choices": choices}
    return f"data: {json.dumps({**body, **extra})}\n\n".encode()


def reply_to(messages: list[dict[str, Any]]) -> str:
    users = [m["content"] for m in messages if m["role"] == "user"]
    return f'You said: "{users[-1] if users else ""}". This is turn {len(users)} of our conversation.'


def speech_pcm(text: str, rate: int = PCM_RATE) -> bytes:
    """A voiced tone as long as the text would take to say, at `rate`."""
    samples = int(rate * len(text) * MS_PER_CHAR / 1000)
    tone = 6000 * np.sin(2 * np.pi * 180 * np.arange(samples) / rate)
    pcm: bytes = tone.astype("<i2").tobytes()
    return pcm


class OpenAIFake:
    def __init__(self, script: Script, api_key: str = "") -> None:
        self.script = script
        self.api_key = api_key
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)
        self.app.post("/openai/deployments/{deployment}/chat/completions")(self.azure_chat)
        self.app.post("/v1/audio/transcriptions")(self.transcriptions)
        self.app.post("/v1/audio/speech")(self.speech)

    async def _begin(self, endpoint: str, request: Request, body: Any) -> tuple[Behaviour, Call, Response | None]:
        call = Call(
            endpoint, request.url.path, dict(request.headers), dict(request.query_params), body, time.monotonic()
        )
        self.script.calls.append(call)
        behaviour = self.script.next(endpoint)
        await asyncio.sleep(behaviour.first_byte_delay_s)
        given = request.headers.get("authorization", "").removeprefix("Bearer ") or request.headers.get("api-key", "")
        if self.api_key and given != self.api_key:
            error = {"message": f"Incorrect API key provided: {given}.", "type": "invalid_request_error"}
            return behaviour, call, JSONResponse({"error": error}, status_code=401)
        if behaviour.status != 200:
            headers = {"retry-after": behaviour.retry_after} if behaviour.retry_after else {}
            error = behaviour.error_body or {"message": f"fake failure {behaviour.status}", "type": "server_error"}
            return behaviour, call, JSONResponse({"error": error}, status_code=behaviour.status, headers=headers)
        return behaviour, call, None

    async def chat(self, request: Request) -> Response:
        return await self._chat("chat", request)

    async def azure_chat(self, deployment: str, request: Request) -> Response:
        return await self._chat("azure_chat", request)

    async def _chat(self, endpoint: str, request: Request) -> Response:
        body = await request.json()
        behaviour, call, failed = await self._begin(endpoint, request, body)
        if failed is not None:
            return failed
        events = (
            _tool_call_chunks()
            if behaviour.text == "TOOL"
            else _text_chunks(behaviour.text or reply_to(body["messages"]))
        )
        return _sse(events, behaviour, call)

    async def transcriptions(self, request: Request) -> Response:
        form = await request.form()
        upload: Any = form["file"]
        body = {key: value for key, value in form.items() if key != "file"} | {"audio": await upload.read()}
        behaviour, call, failed = await self._begin("transcriptions", request, body)
        if failed is not None:
            return failed
        text = behaviour.text or "tell me about the ocean"
        if str(form.get("stream", "false")).lower() != "true":
            return JSONResponse({"text": text})
        words = text.split(" ")
        events = [{"type": "transcript.text.delta", "delta": (" " if i else "") + w} for i, w in enumerate(words)]
        events.append({"type": "transcript.text.done", "text": text})
        return _sse([f"data: {json.dumps(e)}\n\n".encode() for e in events], behaviour, call, done=False)

    async def speech(self, request: Request) -> Response:
        body = await request.json()
        behaviour, call, failed = await self._begin("speech", request, body)
        if failed is not None:
            return failed
        pcm = speech_pcm(body["input"])
        pieces = [pcm[i : i + 4801] for i in range(0, len(pcm), 4801)]  # odd sizes, as a network may cut them
        return StreamingResponse(_paced(pieces, behaviour, call), media_type="application/octet-stream")


def _text_chunks(text: str) -> list[bytes]:
    words = text.split(" ")
    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": (" " if i else "") + word}) for i, word in enumerate(words)]
    chunks.append(chunk({}, "stop"))
    usage = {"prompt_tokens": 12, "completion_tokens": len(words), "total_tokens": 12 + len(words)}
    chunks.append(chunk(None, usage=usage))
    return chunks


def _tool_call_chunks() -> list[bytes]:
    call = {"index": 0, "id": "call_fake1", "type": "function", "function": {"name": "current_time", "arguments": ""}}
    pieces = ['{"time', 'zone": ', '"UTC"}']
    chunks = [chunk({"role": "assistant", "content": None, "tool_calls": [call]})]
    chunks += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces]
    chunks.append(chunk({}, "tool_calls"))
    return chunks


def _sse(events: list[bytes], behaviour: Behaviour, call: Call, done: bool = True) -> StreamingResponse:
    pieces = events + ([b"data: [DONE]\n\n"] if done else [])
    return StreamingResponse(_paced(pieces, behaviour, call), media_type="text/event-stream")


async def _paced(pieces: list[bytes], behaviour: Behaviour, call: Call) -> AsyncIterator[bytes]:
    for index, piece in enumerate(pieces):
        if behaviour.drop_after is not None and index >= behaviour.drop_after:
            raise Dropped("the fake drops the connection mid-stream")
        if behaviour.error_event_after is not None and index >= behaviour.error_event_after:
            yield b'data: {"error": {"message": "The server had an error.", "type": "server_error"}}\n\n'
            return
        if index and behaviour.gap_s:
            await asyncio.sleep(behaviour.gap_s)
        if index == len(pieces) - 1:  # stamped as it is handed over: the client may read it before this resumes
            call.finished = _now()
        yield piece


def _now() -> float:
    return time.monotonic()
