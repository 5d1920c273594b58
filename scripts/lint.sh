#!/usr/bin/env bash
# ruff (lint and format check) and mypy (strict), as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
