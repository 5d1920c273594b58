"""End of turn on the committed mid-sentence pause corpus (tests/data/pause_corpus/): each
sentence has a 600 ms pause at a word boundary in the middle. A turn answered during that
pause was answered too early; at the sentence's real end it should be answered after the
short silence.

1. Through a real server (offline Whisper, Smart Turn, the mock LLM and TTS at zero latency),
   at real time: how many pauses were answered too early (the sentence became two turns), and
   from the end of speech to the final transcript and to the first reply audio at the client.
2. The decision alone, in this process, at several TURN_END_THRESHOLD and
   TURN_END_SURE_THRESHOLD values: the audio model on the speech up to the pause (and up to the
   end) with 200 ms of silence, and the words Whisper heard so far; a pause counts as answered
   early when the silence it would be answered after is no longer than the pause.

Usage: python bench/pause_corpus.py [--json out.json]   (about 4 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import soxr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency import free_port, start_server, summary, wait_ready  # noqa: E402
from bench.local import voice_end_s  # noqa: E402
from engine.turns import smart_turn  # noqa: E402
from engine.turns.end_of_turn import EndOfTurn, EndOfTurnOptions  # noqa: E402
from services.local.asr import WhisperASR  # noqa: E402
from tests.client import Client, silence  # noqa: E402
from tests.conftest import local_config  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "pause_corpus"
SETTINGS = {
    "ASR_PROVIDER": "local", "LLM_PROVIDER": "mock", "TTS_PROVIDER": "mock", "MOCK_ASR_FINAL_DELAY_MS": "0",
    "MOCK_LLM_FIRST_TOKEN_MS": "0", "MOCK_LLM_TOKEN_MS": "0", "MOCK_TTS_FIRST_BYTE_MS": "0",
    "SESSION_STORE": "memory", "LOG_LEVEL": "warning",
}  # fmt: skip
LEAD_S, TRAIL_S = 0.3, 2.5
LEVELS = ((0.5, 0.5), (0.7, 0.7), (0.8, 0.8), (0.9, 0.9), (0.7, 0.9), (0.7, 0.95), (0.7, 0.97))  # threshold, sure


def load(name: str, rate: int) -> bytes:
    with wave.open(str(CORPUS / name)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        resampled: np.ndarray = soxr.resample(samples, wav.getframerate(), rate)
        return resampled.astype("<i2").tobytes()


async def one(client: Client, entry: dict[str, Any]) -> dict[str, Any]:
    pcm = load(entry["file"], client.rate)
    mark, frames_before, loop = len(client.events), len(client.frames), asyncio.get_running_loop()
    began = loop.time()
    await client.send_audio(silence(LEAD_S * 1000) + pcm + silence(TRAIL_S * 1000), speed=1.0)
    await asyncio.sleep(0.5)
    finals = [e for e in client.events[mark:] if e["type"] == "final_transcript" and e["source"] == "speech"]
    tail_at = began + LEAD_S + (entry["pause_at_ms"] + entry["pause_ms"]) / 1000
    speech_end = began + LEAD_S + voice_end_s(pcm, client.rate)
    last_final_at = finals[-1]["_at"] if finals else None
    frames = [f for f in client.frames[frames_before:] if last_final_at is not None and f.at >= last_final_at]
    first_final_at = finals[0]["_at"] if finals else None
    await client.send("interrupt")
    await client.wait_for("interrupt_acknowledged", since=mark)
    await client.send("reset")
    await client.wait_for("reset_acknowledged", since=mark)
    return {
        **entry, "early": len(finals) > 1 or (first_final_at is not None and first_final_at < tail_at),
        "turns": len(finals),
        "heard": [e["content"] for e in finals],
        "final_ms": None if first_final_at is None else round((finals[-1]["_at"] - speech_end) * 1000),
        "first_audio_ms": round((frames[0].at - speech_end) * 1000) if frames else None,
    }  # fmt: skip


async def through_the_server(entries: list[dict[str, Any]]) -> dict[str, Any]:
    port = free_port()
    server = start_server(port, SETTINGS)
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        await wait_ready(url)
        client = await Client.connect(url, ack_playback=True)
        await client.wait_for("server_status", state="ready", timeout=120)
        results = [await one(client, entry) for entry in entries]
        await client.close()
    finally:
        server.terminate()
        server.wait(10)
    for r in results:
        verdict = "EARLY" if r["early"] else "ok   "
        print(f"{verdict} end->final {r['final_ms']} ms, first audio {r['first_audio_ms']} ms: {r['heard']}")
    return {
        "answered_too_early": sum(r["early"] for r in results), "of": len(results),
        "end_of_speech_to_final_transcript_ms": summary([r["final_ms"] for r in results if r["final_ms"] is not None]),
        "end_of_speech_to_first_audio_ms": summary([r["first_audio_ms"] for r in results if r["first_audio_ms"]]),
        "results": results,
    }  # fmt: skip


def decisions(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """P(finished) and the words so far at the pause and at the end; the verdict per threshold."""
    asr: WhisperASR = local_config().factory().build("asr")  # its blocking decode, as the server's workers run it
    points = []
    for entry in entries:
        pcm = load(entry["file"], 16000)
        pause_at = entry["pause_at_ms"] * 32
        head, full = pcm[:pause_at], pcm[: len(pcm)]
        quiet = silence(200, 16000)
        points.append({
            "pause": (smart_turn.probability_now(head + quiet), asr.transcribe(head, "en-US")),
            "end": (smart_turn.probability_now(full + quiet), asr.transcribe(full, "en-US")),
        })  # fmt: skip
    sweep = {}
    pause_ms = entries[0]["pause_ms"]
    for threshold, sure in LEVELS:
        end = EndOfTurn(EndOfTurnOptions(threshold=threshold, sure_threshold=sure), model=smart_turn.SmartTurn())
        at_pause = [end.ends_after_ms(*p["pause"], punctuated=True) for p in points]
        at_end = [end.ends_after_ms(*p["end"], punctuated=True) for p in points]
        sweep[f"{threshold}/{sure}"] = {
            "early_at_pause": sum(wait is not None and wait <= pause_ms for wait in at_pause),
            "finished_at_pause": sum(wait is not None for wait in at_pause),
            "end_at_short_silence": at_end.count(end.options.short_silence_ms),
            "end_at_unsure_silence": sum(wait is not None and wait > end.options.short_silence_ms for wait in at_end),
            "of": len(points), "early_by_the_model_alone": sum(p["pause"][0] >= sure for p in points),
        }  # fmt: skip
    return {"thresholds": sweep, "points": points}


async def main() -> dict[str, Any]:
    entries = json.loads((CORPUS / "manifest.json").read_text())
    report = {"server": await through_the_server(entries), "decision": decisions(entries)}
    print(json.dumps({k: v for k, v in report["server"].items() if k != "results"}))
    print(json.dumps(report["decision"]["thresholds"]))
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    out = parser.parse_args().json
    figures = asyncio.run(main())
    if out is not None:
        out.write_text(json.dumps(figures, indent=1) + "\n")
