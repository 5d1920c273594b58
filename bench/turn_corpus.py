"""Turn taking on the committed corpus (tests/data/turn_corpus/): while the bot speaks, each
sound is played into the microphone with the bot's own voice under it (residual echo at
-30 dB), through a real server on the offline ASR (Whisper tiny.en), real turn detection
(webrtcvad + Silero) and the mock LLM and TTS. A non-interruption is handled right when the
reply is not cut (it paused and resumed, or never paused); an interruption, when it is cut.

Usage: python bench/turn_corpus.py [--json out.json]   (about 4 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import soxr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency import free_port, start_server, wait_ready  # noqa: E402
from tests.client import Client, silence  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "turn_corpus"
SETTINGS = {
    "ASR_PROVIDER": "local", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "MOCK_LLM_SENTENCES": "8",
    "MOCK_LLM_FIRST_TOKEN_MS": "100", "MOCK_TTS_FIRST_BYTE_MS": "60", "SESSION_STORE": "memory", "LOG_LEVEL": "warning",
}  # fmt: skip
ECHO_DB = -30.0
INTO_REPLY_S = 1.0
WATCH_S = 3.0


def clip(name: str, rate: int = 24000) -> np.ndarray:
    with wave.open(str(CORPUS / name)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32)
        resampled: np.ndarray = soxr.resample(samples, wav.getframerate(), rate)
        return resampled


async def one(client: Client, entry: dict[str, Any]) -> dict[str, Any]:
    mark = len(client.events)
    await client.send("text_input", text="tell me a long story")
    start = await client.wait_for("tts_start", since=mark, timeout=30)
    turn = start["turn_id"]
    await asyncio.sleep(INTO_REPLY_S)
    sound = clip(entry["file"])
    played = np.frombuffer(b"".join(f.pcm for f in client.frames if f.turn_id == turn), dtype="<i2")
    echo = np.resize(played.astype(np.float64), len(sound)) * 10 ** (ECHO_DB / 20) if len(played) else 0.0
    pcm = np.clip(sound + echo, -32768, 32767).astype("<i2").tobytes()
    await client.send_audio(silence(100) + pcm + silence(200), speed=1.0)
    await asyncio.sleep(WATCH_S)
    since = client.events[mark:]
    cut = any(e["type"] == "tts_stop" and e["turn_id"] == turn and e["reason"] == "barge_in" for e in since)
    paused = sum(1 for e in since if e["type"] == "tts_pause" and e["turn_id"] == turn)
    resumed = sum(1 for e in since if e["type"] == "tts_resume" and e["turn_id"] == turn)
    heard = [e["content"] for e in since if e["type"] == "final_transcript" and e["source"] == "speech"]
    with contextlib.suppress(TimeoutError):
        await client.send("interrupt")
        await client.wait_for("interrupt_acknowledged", since=mark, timeout=5)
    right = cut == entry["interruption"]
    return {**entry, "cut": cut, "paused": paused, "resumed": resumed, "transcript": heard, "right": right}


async def main() -> dict[str, Any]:
    port = free_port()
    server = start_server(port, SETTINGS)
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        await wait_ready(url)
        client = await Client.connect(url, ack_playback=True)
        await client.wait_for("server_status", state="ready", timeout=120)
        results = [await one(client, entry) for entry in json.loads((CORPUS / "manifest.json").read_text())]
        await client.close()
    finally:
        server.terminate()
        server.wait(10)
    kinds = {"non_interruptions": False, "interruptions": True}
    summary = {
        name: {"right": sum(r["right"] for r in results if r["interruption"] is kind),
               "of": sum(1 for r in results if r["interruption"] is kind)}
        for name, kind in kinds.items()
    }  # fmt: skip
    report = {"summary": summary, "results": results}
    for r in results:
        print(f"{'ok  ' if r['right'] else 'MISS'} {r['what']:45} cut={r['cut']} paused={r['paused']} "
              f"resumed={r['resumed']} heard={r['transcript']}")  # fmt: skip
    print(json.dumps(summary))
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    out = parser.parse_args().json
    figures = asyncio.run(main())
    if out is not None:
        out.write_text(json.dumps(figures, indent=1) + "\n")
