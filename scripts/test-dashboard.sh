#!/usr/bin/env bash
# The dashboard in headless Chromium: Debian's `chromium` driven by `playwright-core` (tests/dashboard/).
# Installs chromium from Debian when missing, `npm ci` from the lockfile (cache under the build dir), writes
# a tiny model, starts two servers on free ports — an upstream, and a gateway (tracing on, the upstream as
# fallback, every confident answer shadowed, the sample evaluation report) — runs the browser test, which
# writes a screenshot, and stops the servers. Exits non-zero on any failure.
#   usage: scripts/test-dashboard.sh [BUILD_DIR]   (default build/release; needs bin/switchyard built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
bin="$PWD/$build/bin/switchyard"
if [[ ! -x "$bin" ]]; then
  echo "test-dashboard: $bin is not built (cmake --build --preset release)" >&2
  exit 1
fi

missing=()
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
chromium_bin=${SY_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$chromium_bin" ]]; then missing+=(chromium); chromium_bin=/usr/bin/chromium; fi
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  echo "test-dashboard: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work="$PWD/$build/dashboard"
mkdir -p "$work"
export npm_config_cache="$work/npm-cache"
(cd tests/dashboard && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

"$bin" model init --preset tiny -o "$work/tiny.gguf" >/dev/null
rm -f "$work/traces.db" "$work/traces.db-wal" "$work/traces.db-shm"

label=test-dashboard
# shellcheck source=scripts/serve-util.sh
source scripts/serve-util.sh  # the working directory is the repository root here

start_server upstream -m "$work/tiny.gguf" -c 1024
upstream_url=$url
cat >"$work/gateway.yaml" <<YAML
models:
  tiny:
    path: $work/tiny.gguf
    n_ctx: 1024
  upstream:
    base_url: $upstream_url/v1
    model: router
roles:
  router: tiny
  responder: tiny
  fallback: upstream
router:
  confidence_threshold: 0.6
  shadow_sample_rate: 1.0
traces:
  url: $work/traces.db
dashboard:
  eval_report: $PWD/tests/dashboard/eval-sample.json
YAML
start_server gateway --config "$work/gateway.yaml"
gateway_url=$url

status=0
(cd tests/dashboard && SY_DASHBOARD_URL="$gateway_url" SY_SCREENSHOT="$work/dashboard.png" SY_CHROMIUM="$chromium_bin" \
  node --test --test-concurrency=1 --test-reporter=spec dashboard.test.mjs) || status=$?
if [[ $status -ne 0 ]]; then
  echo "test-dashboard: FAILED (server logs in $work/*.log)" >&2
else
  echo "test-dashboard: screenshot $work/dashboard.png"
fi
exit $status
