#!/usr/bin/env bash
# Pipecat's own environment for the capacity benchmark (.venv-pipecat): Pipecat 1.14 with its
# Silero and WebSocket extras, on the same server stack as Parley. It cannot share Parley's
# environment (protobuf: OpenTelemetry needs 7, Pipecat below 7). Re-running skips the install.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3}"
[ -x .venv-pipecat/bin/python ] || "$python" -m venv .venv-pipecat
.venv-pipecat/bin/python -m pip install -q --disable-pip-version-check "pipecat-ai[websocket,silero]==1.14.0" \
  fastapi==0.165.0 uvicorn==0.54.0 uvloop==0.23.0 httptools==0.9.0 websockets==17.4 onnxruntime==1.31.1
