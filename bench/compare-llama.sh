#!/usr/bin/env bash
# Side-by-side generation/prompt throughput of `switchyard bench` and llama.cpp's llama-bench on the same
# random-weight files of real shapes, in one run (alternating, so machine noise hits both alike).
#
#   LLAMA_BENCH=/path/to/llama-bench bench/compare-llama.sh [DIR] [REPS]
#
# DIR holds the model files (written with `switchyard model init` when missing). Prints one row per file
# with both figures and the ratio switchyard / llama.cpp. MODELS="135m:q4_0 ..." restricts the set.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-models/bench}
reps=${2:-3}
sy=${SWITCHYARD:-./build/release/bin/switchyard}
lb=${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary}
threads=${THREADS:-2}
models=${MODELS:-"135m:f16 135m:q8_0 135m:q4_k_m 135m:q4_0 0.5b:f16 0.5b:q8_0 0.5b:q4_k_m 0.5b:q4_0"}
mkdir -p "$dir"

printf '| model | sy pp512 | llama pp512 | ratio | sy tg128 | llama tg128 | ratio | sy tg / bound |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for m in $models; do
  shape=${m%%:*}; dtype=${m##*:}
  case $shape in
    135m) arch=llama; preset=smollm2-135m ;;
    0.5b) arch=qwen2; preset=qwen2.5-0.5b ;;
    *) echo "unknown shape $shape" >&2; exit 2 ;;
  esac
  f="$dir/$shape-$dtype.gguf"
  [[ -f $f ]] || "$sy" model init --arch $arch --preset $preset --dtype "$dtype" -o "$f" --seed 1 >/dev/null
  sy_json=$("$sy" bench -m "$f" -p 512 -n 128 -t "$threads" -r "$reps" --json)
  lb_json=$("$lb" -m "$f" -p 512 -n 128 -t "$threads" -r "$reps" -o json 2>/dev/null)
  python3 - "$m" "$sy_json" "$lb_json" <<'PY'
import json, sys
name, s, l = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
lpp = next(r["avg_ts"] for r in l if r["n_prompt"] > 0)
ltg = next(r["avg_ts"] for r in l if r["n_gen"] > 0)
spp, stg = s["pp_tokens_per_s"], s["tg_tokens_per_s"]
print(f"| {name} | {spp:.1f} | {lpp:.1f} | {spp/lpp:.2f} | {stg:.1f} | {ltg:.1f} | {stg/ltg:.2f} | {s['tg_fraction_of_bound']:.2f} |")
PY
done
