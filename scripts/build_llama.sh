#!/usr/bin/env bash
# Builds llama-cpp-python (mainline llama.cpp) from source with portable CPU flags, once, into
# .cache/wheels, and installs it. Opt in: the default local LLM runtime needs no build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/progress.sh
pip=(.venv/bin/python -m pip --disable-pip-version-check)
spec="$(grep -v '^#' requirements-llama.txt | grep llama-cpp-python)"
version="${spec#*==}"
wheels=".cache/wheels"
if .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$version')" 2>/dev/null; then
  exit 0
fi
if ! ls "$wheels"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  mkdir -p "$wheels"
  say "building $spec from source with portable CPU flags (about 6 minutes on 2 cores, once)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
    with_progress "building llama.cpp" "${pip[@]}" wheel --no-deps --no-cache-dir -v -w "$wheels" "$spec"
fi
with_progress "installing llama-cpp-python" \
  "${pip[@]}" install -c requirements-llama.txt "$wheels"/llama_cpp_python-"$version"-*.whl
