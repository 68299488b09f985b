#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, writes a small model if there is none,
# and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target switchyard
sy=./build/release/bin/switchyard
mkdir -p models
if [[ ! -f models/tiny.gguf ]]; then
  "$sy" model init --arch llama --preset tiny --dtype q8_0 -o models/tiny.gguf --seed 1
fi
"$sy" run -m models/tiny.gguf -p "${1:-Hello, Switchyard}" -n 32 --seed 1
