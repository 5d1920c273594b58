#!/usr/bin/env bash
# Runs the latency benchmark against a real server process on mock providers.
# --quick: fewer turns (as CI runs it); other arguments go to bench/latency.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
args=()
if [ "${1:-}" = "--quick" ]; then
  shift
  args=(--turns 4 --cutins 3 --sessions 5)
fi
exec .venv/bin/python bench/latency.py "${args[@]}" --json bench/results/latest.json "$@"
