#!/usr/bin/env bash
# Sets up Parley and starts the server (settings from .env and the environment).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/python app.py
