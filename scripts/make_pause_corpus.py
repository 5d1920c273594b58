"""Make the mid-sentence pause corpus (tests/data/pause_corpus/): sentences spoken by the local
TTS (hibari, a natural voice) with a 600 ms pause inserted at a word boundary in the middle,
as 16 kHz mono WAVs with a manifest.

Each sentence is synthesized whole and then cut, so the words before the pause keep the
melody of a sentence that goes on (a fragment synthesized alone sounds finished). The cut
lands on the quietest 20 ms near where the words before it end. The files are committed; this
script says how they were made (python scripts/make_pause_corpus.py; needs the local models).
"""

from __future__ import annotations

import json
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.local.conftest import synthesize  # noqa: E402

OUT = ROOT / "tests" / "data" / "pause_corpus"
RATE = 16000
PAUSE_MS = 600
SENTENCES = (  # (words before the pause, words after it)
    ("I want to book a table for", "four people tonight."),
    ("My phone number is five five five", "one two three four."),
    ("I need to buy eggs, milk, and", "some bread."),
    ("Could you remind me", "to call my mother tomorrow."),
    ("What is the weather like in", "Paris next week?"),
    ("I was wondering if you could", "help me with my homework."),
    ("What I really want is", "a quiet holiday by the sea."),
    ("Can you tell me how to get to", "the train station?"),
    ("I think the best thing to do", "is to wait until Monday."),
    ("Please add butter and", "cheese to my shopping list."),
    ("The meeting with the", "marketing team is at three."),
    ("How many kilometres is it from London", "to Edinburgh?"),
    ("I would like to order a large pizza with", "mushrooms and olives."),
    ("My favourite film is", "the one about the whale."),
    ("Set an alarm for", "seven in the morning."),
    ("Tell me something interesting about", "the moon."),
    ("If it rains tomorrow", "we should stay at home."),
    ("Send a message to my sister saying", "I will be late."),
    ("Yesterday I went to the", "market and bought apples."),
    ("What is the difference between a frog", "and a toad?"),
    ("I am looking for a good book about", "the history of Rome."),
    ("Can you explain why the sky", "is blue during the day?"),
    ("We are planning a trip to", "Japan in the spring."),
    ("Translate good morning into", "French for me."),
)  # fmt: skip


def voice_end(samples: np.ndarray) -> int:
    """Where the last audible sample is (the TTS pads its clips with silence)."""
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 32768 * 10 ** (-40 / 20))[0]
    return int(loud[-1]) + 1 if len(loud) else samples.size


def cut_at(full: np.ndarray, near: int) -> int:
    """The middle of the quietest 30 ms between 250 ms before and 30 ms after `near` (where the
    words before the pause end when spoken alone, a little later than inside the sentence)."""
    window = RATE * 3 // 100
    starts = range(max(0, near - RATE // 4), min(full.size - window, near + RATE * 3 // 100), RATE // 200)
    quietest = min(starts, key=lambda start: float(np.sum(full[start : start + window].astype(np.float64) ** 2)))
    return quietest + window // 2


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for index, (head, tail) in enumerate(SENTENCES):
        full = np.frombuffer(synthesize(f"{head} {tail}", RATE), dtype="<i2")
        cut = cut_at(full, voice_end(np.frombuffer(synthesize(head, RATE), dtype="<i2")))
        audio = np.concatenate([full[:cut], np.zeros(RATE * PAUSE_MS // 1000, dtype="<i2"), full[cut:]])
        name = f"pause-{index:02d}.wav"
        with wave.open(str(OUT / name), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(audio.tobytes())
        manifest.append({"file": name, "before": head, "after": tail, "pause_at_ms": round(cut * 1000 / RATE),
                         "pause_ms": PAUSE_MS, "duration_ms": round(audio.size * 1000 / RATE)})  # fmt: skip
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest)} utterances in {OUT}")


if __name__ == "__main__":
    main()
