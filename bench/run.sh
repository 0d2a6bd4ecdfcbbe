#!/usr/bin/env bash
# What an audit costs, next to ONNX Runtime, measured in one run on one machine (bench/README.md).
# For each shipped model it times
#   ONNX Runtime FP32 inference (onnxruntime-node, pinned in bench/package.json), 1 and 2 threads;
#   fpaudit run: one chain alone (fp32, fp16, ...), no reference, no statistics;
#   fpaudit audit --chains C: one chain plus the exact reference, bounds and statistics;
#   fpaudit audit: the full audit (every chain and the reference), 1 and 2 threads;
# checks that fpaudit's fp32 outputs agree with ONNX Runtime's, and prints a Markdown table.
# Everything lands in bench/results/<UTC time>/ (raw outputs) and bench/results/<UTC time>.json.
#
# Settings (environment variables, defaults in brackets):
#   MODELS [mlp cnn vit]   N_MLP [1000]  N_CNN [1000]  N_VIT [200]   samples per model
#   THREADS [1 2]          thread counts for ORT, fpaudit run fp32 and the full audit
#   CHAIN_THREADS [1]      thread counts for the one-chain runs and audits
#   ORT_BATCH [64]         ORT batch size (the fastest of 1/16/64/256 on the development machine)
#   REPEATS [3]            timed passes per ORT measurement and runs per fpaudit measurement (best kept)
#   BUILD [build]          CMake build folder (Release); fpaudit_cli is (re)built there
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODELS:=mlp cnn vit}" "${N_MLP:=1000}" "${N_CNN:=1000}" "${N_VIT:=200}"
: "${THREADS:=1 2}" "${CHAIN_THREADS:=1}" "${ORT_BATCH:=64}" "${REPEATS:=3}" "${BUILD:=build}"
CHAINS="fp32 fp16 fp16-acc32 bf16 bf16-acc32"
input=data/test_images.npy

scripts/install-deps --bench
echo "== building fpaudit (Release) in $BUILD" >&2
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target fpaudit_cli -j "$(nproc)" >/dev/null
fpaudit=$BUILD/fpaudit

echo "== installing onnxruntime-node into bench/node_modules" >&2
# --ignore-scripts and ONNXRUNTIME_NODE_INSTALL=skip: the npm package already holds the CPU
# runtime for linux-x64; nothing is downloaded after the install.
if [[ ! -d bench/node_modules/onnxruntime-node ]]; then
  (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/$stamp
mkdir -p "$out"
log=$out/measurements.jsonl
: >"$log"

# Peak resident memory (KB) of a command: GNU time writes it to $out/rss.
peak() { /usr/bin/time -f %M -o "$out/rss" "$@"; }

# One measurement as a JSON line: kind, model, chain, threads, samples, seconds, peak_kb, file.
record() {
  printf '{"kind":"%s","model":"%s","chain":"%s","threads":%s,"samples":%s,"seconds":%s,"peak_kb":%s,"file":"%s"}\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$(cat "$out/rss")" "$7" >>"$log"
}

# Keeps the best of REPEATS runs of a fpaudit command; $1 is how to read its seconds.
best_of() {
  local read_seconds=$1 kind=$2 model=$3 chain=$4 threads=$5 n=$6 file=$7
  shift 7
  local best="" peak_best=0
  for ((r = 0; r < REPEATS; ++r)); do
    peak "$@" >"$out/stdout" 2>"$out/stderr" || { cat "$out/stderr" >&2; exit 1; }
    local s
    s=$($read_seconds)
    if [[ -z $best ]] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    peak_best=$(( $(cat "$out/rss") > peak_best ? $(cat "$out/rss") : peak_best ))
  done
  echo "$peak_best" >"$out/rss"
  record "$kind" "$model" "$chain" "$threads" "$n" "$best" "$file"
  echo "   $kind $chain ${threads}T: $best s" >&2
}
run_seconds() { sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$out/stdout"; }
audit_seconds() { node -e "console.log(require('./$out/audit/audit.json').timing.seconds)"; }

for model in $MODELS; do
  case $model in mlp) n=$N_MLP ;; cnn) n=$N_CNN ;; vit) n=$N_VIT ;; *) n=$N_CNN ;; esac
  onnx=data/$model.onnx
  echo "== $model, $n samples" >&2
  for t in $THREADS; do
    peak node bench/ort_bench.js --model "$onnx" --input "$input" --samples "$n" --threads "$t" \
      --batch "$ORT_BATCH" --repeats "$REPEATS" --output "$out/$model-ort.npy" >"$out/$model-ort-${t}T.json"
    s=$(node -e "console.log(require('./$out/$model-ort-${t}T.json').ms_per_sample_best * $n / 1000)")
    record ort "$model" fp32 "$t" "$n" "$s" "$model-ort-${t}T.json"
    echo "   ort fp32 ${t}T: $s s" >&2
  done
  for t in $THREADS; do
    best_of run_seconds run "$model" fp32 "$t" "$n" "$model-run-fp32.npy" \
      "$fpaudit" run "$onnx" --input "$input" --samples "$n" --threads "$t" --chain fp32 --output "$out/$model-run-fp32.npy"
  done
  for t in $CHAIN_THREADS; do
    for c in $CHAINS; do
      [[ $c == fp32 && " $THREADS " == *" $t "* ]] && continue  # measured above
      best_of run_seconds run "$model" "$c" "$t" "$n" "" \
        "$fpaudit" run "$onnx" --input "$input" --samples "$n" --threads "$t" --chain "$c" --output "$out/run.npy"
    done
    for c in $CHAINS; do
      best_of audit_seconds audit "$model" "$c" "$t" "$n" "$model-audit-$c-${t}T.json" \
        "$fpaudit" audit "$onnx" --input "$input" --samples "$n" --threads "$t" --chains "$c" --format json \
        --out "$out/audit" --no-progress
      cp "$out/audit/audit.json" "$out/$model-audit-$c-${t}T.json"
    done
  done
  for t in $THREADS; do
    best_of audit_seconds audit "$model" all "$t" "$n" "$model-audit-all-${t}T.json" \
      "$fpaudit" audit "$onnx" --input "$input" --samples "$n" --threads "$t" --format json --out "$out/audit" --no-progress
    cp "$out/audit/audit.json" "$out/$model-audit-all-${t}T.json"
  done
done

node bench/report.js "$out" "$out.json"
