"""Pipecat 1.14 behind the capacity caller: the leading Python framework's usual pipeline, on
zero-latency mocks, speaking just enough of Parley's wire protocol for the same caller.

transport in (FastAPI WebSocket) -> mock STT (segmented: a transcript when the VAD says the
user stopped) -> user aggregator (Silero VAD, Smart Turn v3 deciding the end of turn:
Pipecat's defaults) -> mock LLM (three sentences, word by word) -> mock TTS (precomputed
audio, 24 kHz) -> transport out (paced at real time) -> assistant aggregator. The serializer
frames audio as Parley does (turn id, sequence, PCM16) and sends `tts_stop` on an
interruption. Run with the Pipecat environment that bench/capacity/pipecat.sh makes (Pipecat
and Parley's own requirements do not share one environment: protobuf).

Usage: .venv-pipecat/bin/python bench/capacity/pipecat_server.py --port 8200
"""
# mypy: ignore-errors
# (Pipecat is not installed in Parley's environment, so this file is not type-checked there.)

from __future__ import annotations

import argparse
import json
import struct
import sys
from collections.abc import AsyncGenerator

import uvicorn
from fastapi import FastAPI, WebSocket
from loguru import logger
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    OutputAudioRawFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineParams, PipelineTask
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.services.tts_service import TTSService
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.utils.time import time_now_iso8601

IN_RATE, OUT_RATE = 16000, 24000
WORD_AUDIO = bytes(OUT_RATE * 2 * 300 // 1000)  # 300 ms a word, made once
REPLY = "You said something. Here is a reply of three sentences. It goes on long enough to be cut."

app = FastAPI()


class ParleySerializer(FrameSerializer):
    """Audio frames with Parley's 8-byte header; `tts_stop` when a reply is interrupted."""

    def __init__(self) -> None:
        super().__init__()
        self.turn_id = self.sequence = 0
        self.speaking = False

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, OutputAudioRawFrame):
            if not self.speaking:
                self.turn_id, self.sequence, self.speaking = self.turn_id + 1, 0, True
            self.sequence += 1
            return struct.pack("<II", self.turn_id, self.sequence - 1) + frame.audio
        if isinstance(frame, InterruptionFrame) and self.speaking:
            self.speaking = False
            return json.dumps({"type": "tts_stop", "turn_id": self.turn_id, "reason": "barge_in"})
        return None

    async def deserialize(self, data: str | bytes) -> Frame | None:
        if isinstance(data, bytes):
            return InputAudioRawFrame(audio=data[8:], sample_rate=IN_RATE, num_channels=1)
        json.loads(data)  # playback acks: decoded, as Parley does, and dropped
        return None


class MockSTT(SegmentedSTTService):
    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        seconds = len(audio) / (IN_RATE * 2)
        yield TranscriptionFrame(f"I spoke for {seconds:.1f} seconds", "caller", time_now_iso8601())


class MockLLM(FrameProcessor):
    """The reply at once, word by word (what a zero-latency streaming LLM sends)."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        await self.push_frame(LLMFullResponseStartFrame())
        for word in REPLY.split(" "):
            await self.push_frame(LLMTextFrame(word + " "))
        await self.push_frame(LLMFullResponseEndFrame())


class MockTTS(TTSService):
    def __init__(self) -> None:
        super().__init__(sample_rate=OUT_RATE)

    def can_generate_metrics(self) -> bool:
        return False

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        for _ in text.split():
            yield TTSAudioRawFrame(WORD_AUDIO, OUT_RATE, 1, context_id=context_id)


@app.websocket("/ws")
async def conversation(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(json.dumps({"type": "session", "protocol_version": "pipecat"}))
    transport = FastAPIWebsocketTransport(ws, FastAPIWebsocketParams(
        audio_in_enabled=True, audio_out_enabled=True, audio_in_sample_rate=IN_RATE, audio_out_sample_rate=OUT_RATE,
        audio_out_auto_silence=False, serializer=ParleySerializer(),
    ))  # fmt: skip
    aggregators = LLMContextAggregatorPair(
        LLMContext(), user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer())
    )
    pipeline = Pipeline([transport.input(), MockSTT(), aggregators.user(), MockLLM(), MockTTS(), transport.output(),
                         aggregators.assistant()])  # fmt: skip
    task = PipelineTask(pipeline, params=PipelineParams(audio_in_sample_rate=IN_RATE, audio_out_sample_rate=OUT_RATE))

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport: object, client: object) -> None:
        await task.cancel()

    await PipelineRunner(handle_sigint=False).run(task)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8200)
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")  # as Parley runs in the benchmark: no per-frame debug lines
    uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools",
                ws_per_message_deflate=False, log_level="warning")  # fmt: skip
