"""Make the mid-sentence pause corpus (tests/data/pause_corpus/): sentences spoken by the local
TTS (hibari, a natural voice) with a 600 ms pause inserted at a word boundary in the middle,
as 16 kHz mono WAVs with a manifest.

Each sentence is synthesized whole and then cut, so the words before the pause keep the
melody of a sentence that goes on (a fragment synthesized alone sounds finished). Where the
cut goes: the words before and after the pause, each spoken alone, are aligned to the whole
sentence (dynamic time warping of log-mel frames); of the quietest points around that
boundary, the cut is the one where Whisper hears the last words of the first part before it
and the first words of the second after it (an earlier version cut by the first part's length
alone, and some cuts fell inside a word or a word early). The files are committed; this
script says how they were made (python scripts/make_pause_corpus.py; needs the local models).
"""

from __future__ import annotations

import json
import re
import sys
import wave
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.turns.log_mel import HOP, log_mel  # noqa: E402
from services.local.asr import bundled_model_dir  # noqa: E402
from tests.local.conftest import synthesize  # noqa: E402

OUT = ROOT / "tests" / "data" / "pause_corpus"
RATE = 16000
PAUSE_MS = 600
CANDIDATES = 40  # cuts tried at most per sentence
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
    ("Could you book me a taxi to", "the airport at six?"),
    ("I would like to know more about", "your opening hours."),
    ("Remind me to water the plants on", "Thursday evening."),
    ("What time does the", "museum close today?"),
    ("I am not sure whether I should", "take the bus or walk."),
    ("Please turn off the lights in", "the living room."),
    ("The best way to learn a language is", "to speak it every day."),
    ("Can you recommend a restaurant near", "the city centre?"),
    ("My brother lives in a small town near", "the coast."),
    ("How long does it take to", "boil an egg?"),
    ("I forgot to tell you that", "the meeting was moved."),
    ("Play some relaxing music from", "the nineteen seventies."),
    ("Is it going to be colder on", "Saturday or Sunday?"),
    ("We need three more chairs for", "the party tonight."),
    ("Find me a recipe for a cake without", "eggs or butter."),
    ("Why do cats like to sleep in", "cardboard boxes?"),
)  # fmt: skip


def voiced_span(samples: np.ndarray) -> tuple[int, int]:
    """Where the first and after the last audible sample are (the TTS pads its clips with silence)."""
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 32768 * 10 ** (-40 / 20))[0]
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, samples.size)


def features(samples: np.ndarray) -> np.ndarray:
    """Log-mel frames (10 ms hop), each band's mean removed: one row a frame."""
    mel = log_mel(samples.astype(np.float32) / 32768).T
    centred: np.ndarray = mel - mel.mean(axis=0)
    return centred


def open_end_dtw(part: np.ndarray, whole: np.ndarray) -> int:
    """The frame of `whole` where `part` (aligned from the start of both) ends: dynamic time
    warping with a free end, each end's cost normalized by its path length."""
    cost = np.linalg.norm(part[:, None, :] - whole[None, :, :], axis=2)
    total = np.full(cost.shape, np.inf)
    steps = np.zeros(cost.shape)
    total[0] = np.cumsum(cost[0])
    steps[0] = np.arange(1, whole.shape[0] + 1)
    for i in range(1, part.shape[0]):
        total[i, 0], steps[i, 0] = total[i - 1, 0] + cost[i, 0], steps[i - 1, 0] + 1
        for j in range(1, whole.shape[0]):
            options = (total[i - 1, j - 1], total[i - 1, j], total[i, j - 1])
            best = int(np.argmin(options))
            previous = ((i - 1, j - 1), (i - 1, j), (i, j - 1))[best]
            total[i, j], steps[i, j] = options[best] + cost[i, j], steps[previous] + 1
    return int(np.argmin(total[-1] / steps[-1]))


def boundary(full: np.ndarray, head: np.ndarray, tail: np.ndarray) -> tuple[int, int]:
    """Where the head's words end and the tail's begin inside the whole sentence (samples), found
    by aligning each, spoken alone, to the sentence: the head from the start, the tail from the end."""
    start, end = voiced_span(full)
    whole = full[start:end]
    head_alone, tail_alone = head[slice(*voiced_span(head))], tail[slice(*voiced_span(tail))]
    head_end = open_end_dtw(features(head_alone), features(whole)) * HOP
    tail_from_end = open_end_dtw(features(tail_alone[::-1].copy()), features(whole[::-1].copy())) * HOP
    return start + head_end, start + whole.size - tail_from_end


def quiet_points(full: np.ndarray, head_end: int, tail_start: int) -> list[int]:
    """Candidate cuts: the middles of windows that are the quietest within a window around them,
    from 300 ms before the aligned boundary to 300 ms after it; 20 ms windows first, then 10 ms
    ones (in connected speech two words may touch, so the cut between them is not always near
    silence), each quietest first."""
    spread, low_high, cuts = RATE * 3 // 10, sorted((head_end, tail_start)), []
    for window, count in ((RATE // 50, 12), (RATE // 100, CANDIDATES)):
        first, last = max(0, low_high[0] - spread), min(full.size - window, low_high[1] + spread)
        energy = np.convolve(full.astype(np.float64) ** 2, np.ones(window), mode="valid")[first : last + 1]
        minima = [i for i in range(energy.size) if energy[i] == energy[max(0, i - window) : i + window].min()]
        quietest = sorted(minima, key=lambda i: float(energy[i]))[:count]
        cuts += [cut for i in quietest if (cut := first + i + window // 2) not in cuts]
    return cuts


SPELLED = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]))
SPELLED_US = {"kilometres": "kilometers", "favourite": "favorite", "centre": "center"}


def words(text: str) -> list[str]:
    """Lower-case words, digits spelled out and US spelling, so Whisper's way of writing counts as a match."""
    text = re.sub(r"\d", lambda digit: f" {SPELLED[int(digit.group())]} ", text.lower())
    return [SPELLED_US.get(word, word) for word in re.sub(r"[^a-z' ]", " ", text).split()]


def fit(model: WhisperModel, audio: np.ndarray, cut: int, head: str, tail: str) -> tuple[bool, float]:
    """How the audio on each side of `cut` reads as the words meant for it: whether Whisper hears
    the first part's last word just before the cut and the second part's first word just after
    it, and how close the last (first) two words it hears on each side are to the meant ones."""

    def heard(part: np.ndarray) -> list[str]:
        segments, _ = model.transcribe(part.astype(np.float32) / 32768, language="en", beam_size=1)
        return words(" ".join(segment.text for segment in segments))

    before, after, meant_before, meant_after = heard(audio[:cut]), heard(audio[cut:]), words(head), words(tail)
    at_boundary = before[-1:] == meant_before[-1:] and after[:1] == meant_after[:1]
    return at_boundary, (SequenceMatcher(None, " ".join(before[-2:]), " ".join(meant_before[-2:])).ratio()
                         + SequenceMatcher(None, " ".join(after[:2]), " ".join(meant_after[:2])).ratio())  # fmt: skip


def cut_at(model: WhisperModel, full: np.ndarray, head: str, tail: str, bounds: tuple[int, int]) -> int:
    """The first candidate where Whisper hears the boundary in its place; failing that (the TTS
    runs some words together), the one whose sides sound most like the boundary's words."""
    best, best_fit = 0, -1.0
    for cut in quiet_points(full, *bounds):
        at_boundary, score = fit(model, full, cut, head, tail)
        if at_boundary:
            return cut
        if score > best_fit:
            best, best_fit = cut, score
    return best


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    model, manifest = WhisperModel(bundled_model_dir(), device="cpu", compute_type="int8"), []
    for index, (head, tail) in enumerate(SENTENCES):
        full, spoken_head, spoken_tail = (np.frombuffer(synthesize(text, RATE), dtype="<i2")
                                          for text in (f"{head} {tail}", head, tail))  # fmt: skip
        cut = cut_at(model, full, head, tail, boundary(full, spoken_head, spoken_tail))
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
