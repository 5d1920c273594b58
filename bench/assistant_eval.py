"""Scores offline assistant candidates on docs/assistant/requests.json (everyday spoken requests
with a deterministic check per answer) and writes docs/assistant/results.json and the table
in docs/assistant/README.md.

Each candidate is a model, a runtime and a way of prompting; answers are greedy (temperature
0), so a run is repeatable. Style checks apply to every answer: English, at most three
sentences, at most 60 words. Speed is measured on the same run: first piece and pieces per
second.

Usage: python bench/assistant_eval.py [--only NAME] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.base import ChatMessage  # noqa: E402
from services.errors import ProviderError  # noqa: E402

DOCS = ROOT / "docs" / "assistant"
TABLE_MARKS = ("<!-- results:begin (bench/assistant_eval.py) -->", "<!-- results:end -->")
ENGLISH = set("the a an is are was it this that to of and in on for you i my your be with what how can do does".split())  # noqa: SIM905
OTHER = set("le la les est et un une de du des je tu il ist der die das und ein eine el los las y es que".split())  # noqa: SIM905
Generate = Callable[[list[ChatMessage]], tuple[str, float, float]]  # text, first piece s, pieces per s


def is_english(text: str) -> bool:
    words = re.findall(r"[a-zà-ÿ']+", text.lower())
    return not words or sum(w in ENGLISH for w in words) >= sum(w in OTHER for w in words)


def sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def content_ok(answer: str, turn: dict[str, Any]) -> bool:
    def has(word: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", answer, re.IGNORECASE) is not None

    expected_any, expected_all = turn.get("any"), turn.get("all", [])
    return (not expected_any or any(has(w) for w in expected_any)) and all(has(w) for w in expected_all)


def style_ok(answer: str) -> bool:
    return bool(answer.strip()) and is_english(answer) and sentences(answer) <= 3 and len(answer.split()) <= 60


@dataclass
class Score:
    content: int = 0
    style: int = 0
    both: int = 0
    turns: int = 0
    first_s: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "content": f"{self.content}/{self.turns}",
            "style": f"{self.style}/{self.turns}",
            "both_percent": round(100 * self.both / self.turns),
            "first_piece_ms_p50": round(statistics.median(self.first_s) * 1000),
            "pieces_per_s_p50": round(statistics.median(self.rates)),
            "failures": self.failures,
        }


def evaluate(generate: Generate, system: list[ChatMessage]) -> Score:
    score = Score()
    for conversation in json.loads((DOCS / "requests.json").read_text())["conversations"]:
        messages = list(system)
        for turn in conversation["turns"]:
            messages.append({"role": "user", "content": turn["say"]})
            answer, first_s, rate = generate(messages)
            messages.append({"role": "assistant", "content": answer})
            good_content, good_style = content_ok(answer, turn), style_ok(answer)
            score.turns += 1
            score.content += good_content
            score.style += good_style
            score.both += good_content and good_style
            score.first_s.append(first_s)
            score.rates.append(rate)
            if not (good_content and good_style):
                score.failures.append(f"{turn['say']} -> {answer[:100]}")
    return score


def timed(pieces: Any) -> tuple[str, float, float]:
    started, first, count, text = time.perf_counter(), 0.0, 0, ""
    for piece in pieces:
        first = first or time.perf_counter() - started
        count += 1
        text += piece
    total = time.perf_counter() - started
    return text.strip(), first, (count - 1) / max(total - first, 1e-6)


def main(args: argparse.Namespace) -> None:
    from bench.assistant_candidates import CANDIDATES

    results = json.loads((DOCS / "results.json").read_text()) if (DOCS / "results.json").exists() else {}
    for candidate in CANDIDATES:
        if args.only and args.only != candidate.name:
            continue
        print(f"== {candidate.name}", flush=True)
        try:
            generate, system = candidate.build(args.threads)
        except ProviderError as error:  # its model or runtime is not on this machine: keep its last scores
            print(f"   skipped: {error}", flush=True)
            continue
        results[candidate.name] = {"about": candidate.about, **evaluate(generate, system).summary()}
        print(json.dumps({k: v for k, v in results[candidate.name].items() if k != "failures"}), flush=True)
    (DOCS / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_table(results)


def table(results: dict[str, Any]) -> str:
    rows = [
        "| candidate | content right | style right | both | first piece p50 | pieces/s p50 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rows.append(f"| {name} | {r['content']} | {r['style']} | {r['both_percent']} % | {r['first_piece_ms_p50']} ms "
                    f"| {r['pieces_per_s_p50']} |")  # fmt: skip
    return "\n".join(rows)


def write_table(results: dict[str, Any]) -> None:
    readme = DOCS / "README.md"
    text = readme.read_text()
    head, rest = text.split(TABLE_MARKS[0], 1)
    readme.write_text(f"{head}{TABLE_MARKS[0]}\n{table(results)}\n{TABLE_MARKS[1]}{rest.split(TABLE_MARKS[1], 1)[1]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only")
    parser.add_argument("--threads", type=int, default=1)
    main(parser.parse_args())
