#!/usr/bin/env bash
# The README's first command: the example task agent, end to end, on this machine.
#
#   1. installs the Debian packages the build needs (only the missing ones) and builds `switchyard`;
#   2. trains the default router and responder when models/ does not hold them yet (a few minutes on
#      2 cores, progress on screen; cached for next time — delete the files to retrain);
#   3. starts the task API (the tools' real backend, SQLite in models/tasks.db) and the gateway on
#      127.0.0.1:8080, and prints a curl command and an OpenAI-client snippet to paste.
#
# Fallback: set SWITCHYARD_FALLBACK_URL (any OpenAI-compatible base URL, up to /v1), optionally
# SWITCHYARD_FALLBACK_MODEL (default gpt-4o-mini) and SWITCHYARD_FALLBACK_KEY (its API key); without
# them requests the router is unsure of are answered locally and the gateway says so at start.
# Other knobs: SWITCHYARD_PORT (8080), TASK_API_PORT (8081), SWITCHYARD_THRESHOLD (0.8), THREADS (nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh run
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target switchyard
sy="$root/build/release/bin/switchyard"

threads=${THREADS:-$(nproc)}
models="$root/models"
work="$models/.train"
mkdir -p "$models" "$work"
tools="$root/examples/task-agent/tools.json"

# train KIND OUT N EPOCHS [KEY]: generate N conversations for KIND (router | responder), train the default
# preset (its recipe: docs/training.md), quantize to q8_0 for serving. A cached model without the GGUF
# key KEY was trained by an earlier version (a router whose intent classifier reads no date carriers) and is retrained.
train() {
  local kind=$1 out=$2 n=$3 epochs=$4 key=${5:-}
  if [[ -f "$out" ]]; then
    if [[ -z "$key" ]] || "$sy" model info "$out" 2>/dev/null | grep -q "$key"; then
      echo "run: $kind model found: ${out#"$root"/} (delete it to retrain)"
      return
    fi
    echo "run: ${out#"$root"/} was trained by an earlier version (no $key); retraining"
  fi
  echo "run: training the $kind ($n generated conversations, $threads threads); cached in ${out#"$root"/}"
  "$sy" dataset generate --tools "$tools" --kind "$kind" --n "$n" --seed 1 -o "$work/$kind.jsonl"
  "$sy" train --data "$work/$kind.jsonl" --preset router-default --epochs "$epochs" \
    --threads "$threads" --seed 1 -o "$work/$kind-f32.gguf"
  "$sy" model quantize "$work/$kind-f32.gguf" "$out.tmp" q8_0 >/dev/null
  mv "$out.tmp" "$out"
}
start=$(date +%s)
train router "$models/task-router.gguf" 6000 5 switchyard.router.intent.date_carrier_words
train responder "$models/task-responder.gguf" 3000 3
# The dashboard shows the router's evaluation on a held-out split phrased with words training never saw.
if [[ ! -f "$models/eval/router.json" || "$models/eval/router.json" -ot "$models/task-router.gguf" ]]; then
  mkdir -p "$models/eval"
  "$sy" dataset generate --tools "$tools" --split test --n 200 --seed 3 -o "$work/heldout.jsonl" >/dev/null
  "$sy" eval -m "$models/task-router.gguf" --data "$work/heldout.jsonl" --json "$models/eval/router.json" \
    --report "$models/eval/router.html" --threshold "${SWITCHYARD_THRESHOLD:-0.8}" -t "$threads" --show 0
fi
# The responder's, served as the gateway serves it (replies held to the tool result's values), in its own
# folder: the dashboard shows the newest report of models/eval/.
if [[ ! -f "$models/eval-responder/responder.json" || "$models/eval-responder/responder.json" -ot "$models/task-responder.gguf" ]]; then
  mkdir -p "$models/eval-responder"
  "$sy" dataset generate --tools "$tools" --kind responder --split test --n 300 --seed 3 -o "$work/heldout-responder.jsonl" >/dev/null
  "$sy" eval -m "$models/task-responder.gguf" --data "$work/heldout-responder.jsonl" --grounded-replies \
    --json "$models/eval-responder/responder.json" --report "$models/eval-responder/responder.html" -t "$threads" --show 0 |
    grep -E '^(examples|replies|latency)' || true
fi
echo "run: models ready in $(( $(date +%s) - start ))s"

port=${SWITCHYARD_PORT:-8080}
task_port=${TASK_API_PORT:-8081}
export SWITCHYARD_PORT=$port TASK_API_PORT=$task_port SWITCHYARD_MODELS="$models"
export SWITCHYARD_TRACES="$models/traces.db"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$sy" task-api --db "$models/tasks.db" --host 127.0.0.1 --port "$task_port" &
pids+=($!)

serve_args=(serve --config "$root/examples/task-agent/switchyard.yaml" --threads "$threads")
if [[ -n "${SWITCHYARD_FALLBACK_URL:-}" ]]; then
  serve_args+=(--fallback-url "$SWITCHYARD_FALLBACK_URL" --fallback-model "${SWITCHYARD_FALLBACK_MODEL:-gpt-4o-mini}")
  if [[ -n "${SWITCHYARD_FALLBACK_KEY:-}" ]]; then serve_args+=(--fallback-key-env SWITCHYARD_FALLBACK_KEY); fi
fi
"$sy" "${serve_args[@]}" &
pids+=($!)

for _ in $(seq 1 300); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "run: the gateway did not start (see above)" >&2; exit 1; fi
  sleep 0.2
done

cat <<EOF

Switchyard is serving the example task agent on http://127.0.0.1:$port (dashboard: http://127.0.0.1:$port/).
Tools run against the task API on http://127.0.0.1:$task_port (GET /tasks lists the tasks). Ctrl-C stops both.

Try it — the agent picks the tool, the task API runs it, the responder words the reply:

  curl -s http://127.0.0.1:$port/v1/agent/chat -H 'Content-Type: application/json' \\
    -d '{"model": "router", "messages": [{"role": "user", "content": "add a task to renew my passport, high priority, due next friday"}]}'

Or with the OpenAI SDK (Python: pip install openai; the tools are yours, the gateway returns the call):

  from openai import OpenAI
  client = OpenAI(base_url="http://127.0.0.1:$port/v1", api_key="unused")
  tools = __import__("json").load(open("examples/task-agent/tools.json"))
  r = client.chat.completions.create(model="router", tools=tools,
        messages=[{"role": "user", "content": "show me my high priority tasks"}])
  print(r.choices[0].message.tool_calls)

EOF
wait -n "${pids[@]}"
