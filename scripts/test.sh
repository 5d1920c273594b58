#!/usr/bin/env bash
# Sets up Parley with its test tools and runs the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k barge -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt espeak-ng chromium
exec .venv/bin/python -m pytest "$@"
