"""What keeps the small default model a voice assistant: the language line, the example
exchanges, the sentence cap, and the thread count chosen for the machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Settings
from engine.language import answer_in, system_prompt
from services.local.llama_runtime import auto_threads
from services.local.llm import BUILTIN_EXAMPLES, examples, sentence_cut
from services.local.settings import LocalLLMSettings


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en-US", "Always answer in English, whatever the language of the question."),
        ("fr-FR", "Always answer in French, whatever the language of the question."),
        ("DE", "Always answer in German, whatever the language of the question."),
        ("tlh", "Always answer in tlh, whatever the language of the question."),
    ],
)
def test_the_session_language_is_named_in_the_prompt(language: str, line: str) -> None:
    assert answer_in(language) == line
    assert system_prompt("Be kind.  \n", language) == f"Be kind.\n{line}"


def test_the_default_prompt_asks_for_short_spoken_answers() -> None:
    prompt = Settings(_env_file=None).system_prompt
    assert "spoken" in prompt and "one to three short" in prompt


def test_builtin_examples_follow_the_system_prompt_as_alternating_turns(tmp_path: Path) -> None:
    builtin = examples("builtin")
    assert [m["role"] for m in builtin] == ["user", "assistant"] * len(BUILTIN_EXAMPLES)
    assert examples("none") == []
    own = tmp_path / "examples.json"
    own.write_text(json.dumps([["Quelle heure est-il ?", "Il est midi."]]))
    assert examples(str(own)) == [
        {"role": "user", "content": "Quelle heure est-il ?"},
        {"role": "assistant", "content": "Il est midi."},
    ]


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("One. Two! Three? Four", 3, len("One. Two! Three?")),
        ("One. Two! Three? ", 3, None),  # the third sentence has ended but no fourth has begun
        ('Mr. Smith said "Hi." Then left', 1, len('Mr. Smith said "Hi."')),
        ("Wait… what? Yes", 1, len("Wait…")),
        ("It is 3.5 km away. Go", 1, len("It is 3.5 km away.")),
        ("One. Two. Three. Four.", 0, None),  # 0: no limit
    ],
)
def test_a_reply_is_cut_where_the_sentence_after_the_limit_begins(text: str, limit: int, cut: int | None) -> None:
    assert sentence_cut(text, limit) == cut


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (3, 1), (4, 2), (8, 4), (64, 4)])
def test_threads_are_one_on_small_machines_and_half_the_cores_up_to_four(cores: int, threads: int) -> None:
    assert auto_threads(cores) == threads


def test_threads_default_to_automatic() -> None:
    assert LocalLLMSettings(_env_file=None).threads == 0
