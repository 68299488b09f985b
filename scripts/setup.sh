#!/usr/bin/env bash
# Installs the Debian 12 packages Switchyard needs to build and test, only when missing.
# Idempotent and non-interactive: runs `apt-get update` at most once, and only if something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libpcre2-dev libutf8proc-dev
  libyaml-cpp-dev libcpp-httplib-dev libsqlite3-dev libpq-dev libssl-dev libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev postgresql
  chromium  # the dashboard's browser test (scripts/test-dashboard.sh)
)
# `setup.sh run` (the main job) needs only what builds and runs the binary; the tests need the rest.
run_only=0
if [[ "${1:-}" == "run" ]]; then
  run_only=1
  packages=(
    build-essential cmake ninja-build pkg-config git
    nlohmann-json3-dev libcli11-dev libfmt-dev libpcre2-dev libutf8proc-dev
    libyaml-cpp-dev libcpp-httplib-dev libsqlite3-dev libpq-dev libssl-dev libopenblas-dev
    libgtest-dev libgmock-dev libbenchmark-dev
  )
fi
# The client tests (scripts/test-clients.sh) need node and npm; a node installed another way is kept.
if [[ $run_only -eq 0 ]] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
  packages+=(nodejs npm)
fi
if [[ "${SWITCHYARD_SETUP_EXTRA:-}" != "" ]]; then
  read -r -a extra <<<"$SWITCHYARD_SETUP_EXTRA"
  packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
