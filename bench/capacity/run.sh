#!/usr/bin/env bash
# The capacity benchmark: the sweep with zero-latency mocks (Parley's own cost) and with
# realistic ones, the zero profile again with larger frames, then docs/BENCHMARKS.md and its
# plots. About 20 minutes on 2 cores.
# Needs two cores (the server is pinned to core 0, the callers run on core 1).
# --quick: fewer steps and a shorter window (a smoke run; it does not rewrite the docs).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh requirements-dev.txt
targets=floor-asyncio,floor,parley,parley-no-smart-turn,parley-no-smart-turn-unbatched,parley-webrtc,pipecat
if [ "${1:-}" = "--quick" ]; then
  .venv/bin/python -m bench.capacity.sweep --steps 1,10 --window 5 --targets floor,parley \
    --json bench/results/capacity-quick.json
  exit 0
fi
bash bench/capacity/pipecat.sh  # Pipecat in an environment of its own (the full sweep only)
.venv/bin/python -m bench.capacity.sweep --steps 1,10,20,50,100,200,300 --window 10 --targets "$targets" \
  --profile zero --json docs/benchmarks/capacity-zero.json
.venv/bin/python -m bench.capacity.sweep --steps 10,50,100,200 --window 10 --targets floor,parley,parley-no-smart-turn \
  --profile realistic --json docs/benchmarks/capacity-realistic.json
.venv/bin/python -m bench.capacity.sweep --steps 10,50,100,200,300 --window 10 \
  --targets floor,parley,parley-no-smart-turn --profile zero --framing 60,100 \
  --json docs/benchmarks/capacity-framing.json  # fewer, larger frames both ways (protocol 1.6)
.venv/bin/python -m bench.capacity.report --plots
