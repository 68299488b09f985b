# Sourced by the test scripts that run `switchyard serve` processes on loopback (test-clients.sh,
# test-dashboard.sh). Needs $bin (the switchyard binary), $work (a scratch folder) and $label (the
# script's name for messages). Every server started is stopped when the script exits.

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# start_server NAME ARGS... : starts `switchyard serve ARGS --port 0`, sets $url once it listens.
start_server() {
  local name=$1
  shift
  "$bin" serve "$@" --port 0 >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 300); do
    if grep -q "listening on http://" "$work/$name.out" 2>/dev/null; then
      url=$(grep -o "http://[^ ]*" "$work/$name.out" | head -1)
      return 0
    fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$label: switchyard serve ($name) did not start:" >&2
  cat "$work/$name.log" >&2
  return 1
}
