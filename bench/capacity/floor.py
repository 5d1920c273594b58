"""The transport floor: uvicorn + FastAPI doing only what any voice server must on the wire.

It takes the same frames as Parley and sends the same kind back: `session` first, then for
each utterance (read from the frames' energy/silence flags, no VAD) a `tts_start`, 40 ms
audio frames (or what `configure.output_frame_ms` asks) paced at real time 200 ms ahead,
`tts_end`; 200 ms of voice during a reply cuts it with `tts_stop`. Playback messages are
decoded. Whatever Parley costs beyond this server is the price of its pipeline.

Usage: python -m bench.capacity.floor --port 8100 [--loop asyncio|uvloop] [--http h11|httptools]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import struct

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

SILENCE_FLAG = 1 << 8
END_SILENCE_MS = 600
BARGE_IN_MS = 200
OUT_FRAME_MS = 40
LEAD_MS = 200
REPLY_MS = 4000

app = FastAPI()


async def speak(ws: WebSocket, turn_id: int, frame_ms: int) -> None:
    """One reply's audio at real time, LEAD_MS ahead."""
    await ws.send_text(json.dumps({"type": "tts_start", "turn_id": turn_id, "sample_rate": 24000}))
    loop = asyncio.get_running_loop()
    began = loop.time()
    frame = bytes(24000 * frame_ms // 1000 * 2)
    for sequence in range(REPLY_MS // frame_ms):
        due = began + (sequence * frame_ms - LEAD_MS) / 1000
        await asyncio.sleep(max(0.0, due - loop.time()))
        await ws.send_bytes(struct.pack("<II", turn_id, sequence) + frame)
    await ws.send_text(json.dumps({"type": "tts_end", "turn_id": turn_id, "audio_ms": REPLY_MS}))


class Turns:
    """Utterances from the flags: voice, then END_SILENCE_MS of silence, ends a turn."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.turn_id = 0
        self.voiced_ms = self.silent_ms = 0
        self.reply: asyncio.Task[None] | None = None
        self.out_frame_ms = OUT_FRAME_MS

    async def frame(self, flags: int, ms: int) -> None:
        if flags & SILENCE_FLAG:
            self.silent_ms += ms
            if self.voiced_ms and self.silent_ms >= END_SILENCE_MS:
                self.voiced_ms = 0
                self.turn_id += 1
                self.reply = asyncio.create_task(speak(self.ws, self.turn_id, self.out_frame_ms))
            return
        self.silent_ms = 0
        self.voiced_ms += ms
        if self.voiced_ms >= BARGE_IN_MS and self.reply is not None and not self.reply.done():
            await self.cancel()
            await self.ws.send_text(json.dumps({"type": "tts_stop", "turn_id": self.turn_id, "reason": "barge_in"}))

    async def cancel(self) -> None:
        if self.reply is not None:
            self.reply.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reply


@app.websocket("/ws")
async def conversation(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(json.dumps({"type": "session", "protocol_version": "1.2"}))
    turns = Turns(ws)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if (data := message.get("bytes")) is not None:
                _, flags = struct.unpack_from("<II", data)
                await turns.frame(flags, (len(data) - 8) // 32)  # 16 kHz PCM16: 32 bytes a ms
            elif (text := message.get("text")) is not None:
                command = json.loads(text)
                if command.get("type") == "configure" and "output_frame_ms" in command:
                    turns.out_frame_ms = int(command["output_frame_ms"])
    except WebSocketDisconnect:
        pass
    finally:
        await turns.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--loop", default="asyncio")
    parser.add_argument("--http", default="h11")
    parser.add_argument("--deflate", action="store_true", help="permessage-deflate, as uvicorn offers by default")
    args = parser.parse_args()
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, loop=args.loop, http=args.http,
        ws_per_message_deflate=args.deflate, log_level="warning",
    )  # fmt: skip
