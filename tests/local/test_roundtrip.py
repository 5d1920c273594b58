"""Speech quality without a listener: sentences spoken by the local TTS, transcribed by
the local STT, scored by word error rate (the figure is printed)."""

from __future__ import annotations

import time

from tests.conftest import Config
from tests.local.conftest import local_provider, synthesize
from tests.wer import word_error_rate, word_errors

SENTENCES = [
    "Hello, my name is Maria and I live in Boston.",
    "What time does the train to Chicago leave tomorrow?",
    "Please set a timer for 15 minutes.",
    "The meeting is on Tuesday at 3 o'clock.",
    "Can you tell me the weather in London?",
    "I would like to order 2 large pizzas with extra cheese.",
    "Doctor Smith said the results will be ready next week.",
    "How many people live in New York City?",
    "There are 24 hours in a day and 7 days in a week.",
    "Remind me to call Peter when I get home.",
    "Is it going to rain this afternoon?",
    "The concert starts at 8:30 and tickets cost 40 dollars.",
]


def test_local_tts_to_local_stt_word_error_rate_is_at_most_ten_percent(warm_engines: Config) -> None:
    asr = local_provider("asr")
    pairs: list[tuple[str, str]] = []
    audio_s = decode_s = 0.0
    for sentence in SENTENCES:
        pcm = synthesize(sentence, 16000)
        started = time.perf_counter()
        heard = asr.transcribe(pcm, "en-US")
        decode_s += time.perf_counter() - started
        audio_s += len(pcm) / 2 / 16000
        pairs.append((sentence, heard))
        errors, words = word_errors(sentence, heard)
        print(f"{errors}/{words} errors: {sentence!r} -> {heard!r}")
    wer = word_error_rate(pairs)
    print(f"round trip over {len(SENTENCES)} sentences: WER {wer:.1%}, STT real-time factor {decode_s / audio_s:.3f}")
    assert wer <= 0.10


def test_word_error_rate_normalises_numbers_case_and_punctuation() -> None:
    assert word_errors("Set a timer for 15 minutes.", "set a timer for fifteen minutes") == (0, 6)
    assert word_errors("Dr. Smith paid $40 at 7:30.", "Doctor Smith paid forty dollars at seven thirty") == (0, 8)
    assert word_errors("one two three", "one three") == (1, 3)
    assert word_error_rate([("a b c d", "a x c d"), ("e f", "e f g")]) == 2 / 6
