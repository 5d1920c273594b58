"""A local fake of MiniMax T2A v2 (HTTP, `stream: true`): server-sent events, each with a piece
of PCM as hex, then a summary event with `extra_info` that repeats the whole audio.
Failures come as HTTP statuses or as `base_resp.status_code` in a JSON body."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.behaviour import Call, Script
from tests.fakes.openai_fake import _paced, speech_pcm

PIECE_BYTES = 9600  # 200 ms at 24 kHz


def event(hex_audio: str, status: int, **extra: Any) -> bytes:
    body = {"data": {"audio": hex_audio, "status": status}, "trace_id": "fake", **extra,
            "base_resp": {"status_code": 0, "status_msg": ""}}  # fmt: skip
    return f"data: {json.dumps(body)}\n\n".encode()


class MiniMaxFake:
    def __init__(self, script: Script, api_key: str = "", group_id: str = "") -> None:
        self.script = script
        self.api_key = api_key
        self.group_id = group_id
        self.app = FastAPI()
        self.app.post("/v1/t2a_v2")(self.t2a)

    async def t2a(self, request: Request) -> Response:
        body = await request.json()
        call = Call("t2a", request.url.path, dict(request.headers), dict(request.query_params), body, time.monotonic())
        self.script.calls.append(call)
        behaviour = self.script.next("t2a")
        if behaviour.first_byte_delay_s:
            import asyncio

            await asyncio.sleep(behaviour.first_byte_delay_s)
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if (self.api_key and key != self.api_key) or (self.group_id and call.query.get("GroupId") != self.group_id):
            return JSONResponse({"base_resp": {"status_code": 1004, "status_msg": "token not match group"}})
        if behaviour.status != 200:
            headers = {"retry-after": behaviour.retry_after} if behaviour.retry_after else {}
            return JSONResponse({"error": "fake"}, status_code=behaviour.status, headers=headers)
        if behaviour.error_body:
            return JSONResponse({"base_resp": behaviour.error_body})
        rate = body["audio_setting"]["sample_rate"]
        pcm = speech_pcm(body["text"], rate)
        pieces = [event(pcm[i : i + PIECE_BYTES].hex(), 1) for i in range(0, len(pcm), PIECE_BYTES)]
        info = {"audio_length": len(pcm) * 500 // rate, "audio_sample_rate": rate}
        pieces.append(event(pcm.hex(), 2, extra_info=info))
        return StreamingResponse(_paced(pieces, behaviour, call), media_type="text/event-stream")
