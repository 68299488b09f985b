#!/usr/bin/env bash
# The README's test command: installs what is missing, builds (release), runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

cmake --preset release >/dev/null
cmake --build --preset release -j"$jobs"
ctest --test-dir build/release -j"$jobs" --output-on-failure --timeout 600
# Real client libraries (openai, LangGraph.js, ollama) against `switchyard serve` on loopback.
bash scripts/test-clients.sh build/release
bash scripts/test-dashboard.sh build/release  # the dashboard in headless Chromium
bash scripts/test-postgres.sh build/release

# Sanitizer and fuzz passes over the file readers (hostile input is their job).
bash scripts/test-sanitizers.sh
