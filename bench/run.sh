#!/usr/bin/env bash
# Runs the benchmarks: the pipeline on mock providers (bench/latency.py), then the offline
# engines and spoken turns on the local stack (bench/local.py). Figures are printed and saved
# under bench/results/, then the end-of-turn decision on the pause corpus (bench/pause_corpus.py).
# --quick: fewer turns, no pause corpus, and a smoke run of the capacity sweep (as CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
mock_args=()
local_args=(--turns 12)
if [ "${1:-}" = "--quick" ]; then
  shift
  mock_args=(--turns 4 --cutins 3 --sessions 5)
  local_args=(--turns 10)
fi
.venv/bin/python bench/latency.py "${mock_args[@]}" --json bench/results/latest.json "$@"
.venv/bin/python bench/local.py "${local_args[@]}" --json bench/results/local.json
if [ "${#mock_args[@]}" -gt 0 ]; then
  bash bench/capacity/run.sh --quick  # the capacity sweep still runs (bench/capacity/run.sh for the full one)
else
  .venv/bin/python bench/pause_corpus.py --json docs/benchmarks/pause-corpus.json  # end of turn (4 minutes)
fi
