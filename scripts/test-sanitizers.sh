#!/usr/bin/env bash
# ASan+UBSan build of the layers that parse untrusted files and their tests, then a short libFuzzer run of
# the GGUF reader from a seed corpus of valid files. Fails on any test failure, sanitizer report or fuzzer
# finding (the crashing input is left in the fuzz build directory as crash-*).
# Environment: SY_JOBS (default: nproc), SY_FUZZ_SECONDS (default 30), SY_ASAN_BUILD_DIR and
# SY_FUZZ_BUILD_DIR (default: the presets' build/asan and build/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SY_JOBS:-$(nproc)}
fuzz_seconds=${SY_FUZZ_SECONDS:-30}
asan_dir=${SY_ASAN_BUILD_DIR:-build/asan}
fuzz_dir=${SY_FUZZ_BUILD_DIR:-build/fuzz}

cmake --preset asan -B "$asan_dir" >/dev/null
cmake --build "$asan_dir" -j"$jobs" --target test_gguf
ASAN_OPTIONS=detect_leaks=1 "$asan_dir"/tests/test_gguf --gtest_brief=1

if ! command -v clang++ >/dev/null; then
  echo "test-sanitizers: clang++ not found (scripts/setup.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
cmake --preset fuzz -B "$fuzz_dir" >/dev/null
cmake --build "$fuzz_dir" -j"$jobs" --target fuzz_gguf fuzz_gguf_seeds
corpus="$fuzz_dir/gguf-corpus"
rm -rf "$corpus"
mkdir -p "$corpus"
"$fuzz_dir"/tests/fuzz/fuzz_gguf_seeds "$corpus"
echo "test-sanitizers: fuzzing the GGUF reader for ${fuzz_seconds}s"
log="$fuzz_dir/fuzz_gguf.log"
if ! "$fuzz_dir"/tests/fuzz/fuzz_gguf "$corpus" -dict=tests/fuzz/gguf.dict -max_total_time="$fuzz_seconds" \
  -max_len=8192 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$fuzz_dir/" -print_final_stats=1 >"$log" 2>&1; then
  tail -n 100 "$log" >&2
  echo "test-sanitizers: fuzz_gguf found a problem (full log: $log)" >&2
  exit 1
fi
grep -E "^(Done|stat::number_of_executed_units|#[0-9]+ +DONE)" "$log" || tail -n 5 "$log"
echo "test-sanitizers: ok"
