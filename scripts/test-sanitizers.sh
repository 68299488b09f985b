#!/usr/bin/env bash
# ASan+UBSan build of the layers that parse untrusted files, their tests, and a short libFuzzer run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs" --target test_gguf
ASAN_OPTIONS=detect_leaks=1 ./build/asan/tests/test_gguf --gtest_brief=1
