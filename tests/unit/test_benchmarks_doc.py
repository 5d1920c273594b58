"""docs/BENCHMARKS.md is generated from the capacity sweep's results: it says what they say."""

from __future__ import annotations

from bench.capacity.report import DOC, PROFILES, RESULTS, capacity, document


def test_the_benchmarks_page_is_generated_from_the_results() -> None:
    present = [p for p in PROFILES if (RESULTS / f"capacity-{p}.json").exists()]
    assert present, "no sweep results under docs/benchmarks"
    assert DOC.read_text() == document(present), "run: python -m bench.capacity.report --plots"


def test_capacity_is_the_largest_step_that_met_every_bar() -> None:
    steps = [{"sessions": 10, "passed": True}, {"sessions": 50, "passed": True}, {"sessions": 100, "passed": False}]
    assert capacity(steps) == 50
    assert capacity([{"sessions": 10, "passed": False}]) == 0
