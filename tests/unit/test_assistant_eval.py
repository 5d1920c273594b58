"""The evaluation behind the default assistant (docs/assistant/): a fixed set of at least 30
everyday requests, a deterministic check per answer, and a published table that matches the
committed scores."""

from __future__ import annotations

import json

from bench.assistant_eval import DOCS, TABLE_MARKS, content_ok, style_ok, table

KINDS = {"fact", "arithmetic", "small talk", "instruction", "follow-up", "language"}


def test_the_set_has_thirty_everyday_conversations_of_every_kind() -> None:
    conversations = json.loads((DOCS / "requests.json").read_text())["conversations"]
    assert len(conversations) >= 30 and {c["kind"] for c in conversations} == KINDS
    follow_ups = [c for c in conversations if c["kind"] == "follow-up"]
    assert all(len(c["turns"]) >= 2 for c in follow_ups), "a follow-up needs the previous turn"
    for conversation in conversations:
        for turn in conversation["turns"]:
            assert set(turn) <= {"say", "any", "all"} and turn["say"].strip()


def test_content_checks_whole_words_in_any_case() -> None:
    assert content_ok("The capital is PARIS.", {"any": ["Paris"]})
    assert not content_ok("Parisian food is good.", {"any": ["Paris"]})
    assert content_ok("It is 7.", {"any": ["seven", "7"]}) and not content_ok("It is 17.", {"any": ["7"]})
    assert content_ok("Red and blue.", {"all": ["red", "blue"]}) and not content_ok("Red.", {"all": ["red", "blue"]})
    assert content_ok("Anything at all.", {})


def test_style_wants_short_english_answers() -> None:
    assert style_ok("Paris is the capital of France. It is lovely.")
    assert not style_ok("")
    assert not style_ok("La capitale de la France est Paris, et la ville est belle.")
    assert not style_ok("One. Two. Three. Four.")
    assert not style_ok("word " * 61)


def test_the_published_table_is_the_committed_scores() -> None:
    results = json.loads((DOCS / "results.json").read_text())
    readme = (DOCS / "README.md").read_text()
    published = readme.split(TABLE_MARKS[0], 1)[1].split(TABLE_MARKS[1], 1)[0].strip()
    assert published == table(results)
    default = next(r for name, r in results.items() if name.startswith("SmolLM2-135M-Instruct, default"))
    assert default["first_piece_ms_p50"] <= 300 and default["pieces_per_s_p50"] >= 15, "the issue's bar"
