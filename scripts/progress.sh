# Progress lines for the set-up scripts (sourced): `say` prints a line; `with_progress LABEL
# COMMAND...` runs a command with its output in a log, printing what it is doing every 10 s
# and the log's tail if it fails.
say() { echo "parley: $*"; }

with_progress() {
  local label="$1" log started pid
  shift
  log="$(mktemp -t parley-setup.XXXXXX)"
  started=$SECONDS
  say "$label..."
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( (SECONDS - started) % 10 == 0 )); then
      local last
      last="$(grep -aoE '^(Collecting|Downloading) [^ ]+|Installing collected packages|Building wheel for [^ ]+|\[[0-9]+/[0-9]+\]' \
        "$log" | tail -1 || true)"
      say "  $label: $((SECONDS - started)) s${last:+ ($last)}"
    fi
  done
  if ! wait "$pid"; then
    tail -25 "$log" >&2
    say "failed: $label (full log: $log)" >&2
    return 1
  fi
  rm -f "$log"
  say "  done in $((SECONDS - started)) s"
}
