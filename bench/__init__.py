"""Benchmarks and evaluations; run each module as a script (see bench/run.sh)."""
