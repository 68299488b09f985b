#!/usr/bin/env bash
# Real client libraries against `switchyard serve` on loopback: the official `openai` package, a LangGraph.js
# agent (@langchain/langgraph + @langchain/openai) and the `ollama` package (tests/clients/*.test.mjs).
# Installs node/npm from Debian when missing, `npm ci` from the lockfile (cache under the build dir), writes
# a tiny model, starts two servers on free ports — one local, one with threshold 1.0 whose fallback is the
# first — runs the node tests and stops the servers. Exits non-zero on any failure.
#   usage: scripts/test-clients.sh [BUILD_DIR]   (default build/release; needs bin/switchyard built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
bin="$PWD/$build/bin/switchyard"
if [[ ! -x "$bin" ]]; then
  echo "test-clients: $bin is not built (cmake --build --preset release)" >&2
  exit 1
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  echo "test-clients: installing nodejs npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

work="$PWD/$build/clients"
mkdir -p "$work"
export npm_config_cache="$work/npm-cache"
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

"$bin" model init --preset tiny -o "$work/tiny.gguf" >/dev/null

label=test-clients
# shellcheck source=scripts/serve-util.sh
source scripts/serve-util.sh  # the working directory is the repository root here

start_server local -m "$work/tiny.gguf" -c 1024
local_url=$url
start_server gateway -m "$work/tiny.gguf" -c 1024 --threshold 1.0 --fallback-url "$local_url/v1" --fallback-model router
gateway_url=$url

status=0
(cd tests/clients && SY_LOCAL_URL="$local_url" SY_GATEWAY_URL="$gateway_url" \
  node --test --test-concurrency=1 openai.test.mjs langgraph.test.mjs ollama.test.mjs) || status=$?
if [[ $status -ne 0 ]]; then
  echo "test-clients: FAILED (server logs in $work/*.log)" >&2
fi
exit $status
