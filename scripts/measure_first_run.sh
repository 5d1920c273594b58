#!/usr/bin/env bash
# Measures what a new user waits for: a fresh clone of this repository (HEAD), a fresh
# virtual environment and an empty pip cache, `bash scripts/run.sh`, until the page answers
# a typed question. Prints the time of each part and the machine. Nothing outside a
# temporary folder is touched; the folder is removed at the end. pip's configuration files
# and PIP_FIND_LINKS are ignored, so the wheels come from PyPI as on a fresh machine (set
# PARLEY_KEEP_PIP_CONFIG=1 where a proxy or mirror is the only way out).
# Usage: bash scripts/measure_first_run.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t parley-first-run.XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/parley"
cd "$work/parley"
export PIP_CACHE_DIR="$work/pip-cache" PORT="$port"
if [ -z "${PARLEY_KEEP_PIP_CONFIG:-}" ]; then
  export PIP_CONFIG_FILE=/dev/null
  unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
fi
started=$(date +%s.%N)
bash scripts/run.sh >"$work/run.log" 2>&1 &
server=$!
until grep -q "parley: ready" "$work/run.log" 2>/dev/null; do
  kill -0 $server 2>/dev/null || { cat "$work/run.log"; echo "first run: the server stopped" >&2; exit 1; }
  sleep 0.5
done
ready=$(date +%s.%N)
.venv/bin/python - "$port" <<'PY'
import asyncio, sys
from clients.python.parley_client import Client

async def main() -> None:
    client = await Client.connect(f"ws://127.0.0.1:{sys.argv[1]}/ws")
    await client.send("text_input", text="What is the capital of France?")
    reply = await client.wait_for("llm_response", is_complete=True, timeout=60)
    await client.wait_for("tts_start", timeout=60)
    print(f"first answer: {reply['content']!r}")
    await client.close()

asyncio.run(main())
PY
answered=$(date +%s.%N)
python3 - "$started" "$ready" "$answered" <<'PY'
import os, platform, sys
started, ready, answered = map(float, sys.argv[1:])
cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
print(f"first run: {ready - started:.0f} s from `bash scripts/run.sh` to a ready server, "
      f"{answered - started:.0f} s to the first spoken answer")
print(f"machine: {len(os.sched_getaffinity(0))} cores ({cpu}), Python {platform.python_version()}, "
      f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
PY
grep -E "^parley: " "$work/run.log" | sed 's/^/  /'
