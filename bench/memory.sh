#!/usr/bin/env bash
# Peak memory of fpaudit next to the size of the model's fp32 weights (bench/README.md, "Memory").
# For each model it measures GNU time's maximum resident set size of the whole process for
#   fpaudit audit (every default chain, or AUDIT_CHAINS for the full-size models) on 1 and on
#   N samples, with and without the margin pass, and fpaudit run --chain fp32 on 1 and N samples,
# and prints a Markdown table: peak RSS, its ratio to the fp32 weights, and the wall time.
# The full-size models (ResNet-50 at 224x224, a BERT-base-sized encoder) are written by
# bench/fullsize_models.py into FULLSIZE (they are large and never committed).
#
# Settings (environment variables, defaults in brackets):
#   MODELS [mlp cnn vit resnet18 resnet50 bert_base]
#   N_SMALL [64]            the "many samples" count for the shipped models (the zoo ResNet-18 has 4)
#   N_FULL [2]              ... for the full-size models
#   AUDIT_CHAINS [fp16-acc32]  the chains audited on the full-size models (all five take hours there)
#   FULLSIZE_MARGIN [0]     1: also audit the full-size models with the margin pass (it keeps values of
#                           every layer: about 12 binary64 copies of the activations for one chain)
#   THREADS [1]             audit and run threads
#   TIMEOUT [3600]          seconds per command
#   MEM_LIMIT_GB [20]       address-space limit per command (ulimit -v): a command that needs more
#                           fails with an allocation error instead of pushing the machine into the OOM killer
#   BUILD [build]           CMake build folder holding fpaudit (Release)
#   FULLSIZE [bench/results/fullsize]  where the full-size models go
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODELS:=mlp cnn vit resnet18 resnet50 bert_base}" "${N_SMALL:=64}" "${N_FULL:=2}" "${AUDIT_CHAINS:=fp16-acc32}"
: "${FULLSIZE_MARGIN:=0}" "${THREADS:=1}" "${TIMEOUT:=3600}" "${MEM_LIMIT_GB:=20}" "${BUILD:=build}" "${FULLSIZE:=bench/results/fullsize}"
fpaudit=$BUILD/fpaudit
[[ -x $fpaudit ]] || { echo "memory.sh: build fpaudit first (scripts/build, or cmake --build $BUILD --target fpaudit_cli)" >&2; exit 2; }
out=bench/results/memory-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"

model_file() {  # model name -> .onnx and input .npy
  case $1 in
    mlp|cnn|vit) echo "data/$1.onnx data/test_images.npy" ;;
    resnet18) echo "data/zoo/resnet18.onnx data/zoo/resnet18-input.npy" ;;
    resnet50|bert_base)
      [[ -f $FULLSIZE/$1.onnx ]] || /usr/bin/python3 bench/fullsize_models.py "$FULLSIZE" >&2
      echo "$FULLSIZE/$1.onnx $FULLSIZE/$1-input.npy" ;;
  esac
}

weights_bytes() {  # bytes of the float initializers held as fp32
  /usr/bin/python3 -c "
import sys, onnx, numpy as np
m = onnx.load(sys.argv[1])
print(sum(4 * int(np.prod(t.dims)) for t in m.graph.initializer if t.data_type in (1, 10, 11, 16)))" "$1"
}

measure() {  # name, command...: prints 'peak_kB wall_s' (or 'timeout' / 'failed rc')
  local name=$1; shift
  local rc=0
  (ulimit -v $((MEM_LIMIT_GB * 1024 * 1024)); exec timeout "$TIMEOUT" /usr/bin/time -f "%M %e" -o "$out/$name.time" "$@" >"$out/$name.log" 2>&1) || rc=$?
  if [[ $rc == 124 ]]; then echo timeout; elif [[ $rc != 0 ]]; then echo "failed $rc"; else tail -1 "$out/$name.time"; fi
}

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
mb2() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

echo "| model | fp32 weights MB | command | peak RSS MB, 1 sample | peak RSS MB, N samples | RSS / weights | wall s (1; N) |"
echo "|---|--:|---|--:|--:|--:|--:|"
for m in $MODELS; do
  read -r onnx input <<<"$(model_file "$m")"
  w=$(weights_bytes "$onnx")
  case $m in
    resnet18) n=4 ;;
    resnet50|bert_base) n=$N_FULL ;;
    *) n=$N_SMALL ;;
  esac
  variants=()
  case $m in
    resnet50|bert_base)
      # No labels come with them, so the audit would judge their class scores as a regression
      # output and skip the margin pass: --task classify says what the outputs are.
      [[ $FULLSIZE_MARGIN == 1 ]] && variants+=("audit --task classify --chains $AUDIT_CHAINS")
      variants+=("audit --task classify --chains $AUDIT_CHAINS --no-margin") ;;
    *) variants+=("audit" "audit --no-margin") ;;
  esac
  variants+=("run --chain fp32")
  for v in "${variants[@]}"; do
    row=()
    for s in 1 "$n"; do
      tag=$m-$(echo "$v" | tr ' ,' '__')-$s
      # shellcheck disable=SC2086 # the variant is a word list on purpose
      if [[ $v == run* ]]; then r=$(measure "$tag" "$fpaudit" $v "$onnx" --input "$input" --samples "$s" --threads "$THREADS" --output "$out/$tag.npy")
      else r=$(measure "$tag" "$fpaudit" $v "$onnx" --input "$input" --samples "$s" --threads "$THREADS" --no-progress --format json --out "$out/$tag"); fi
      row+=("$r")
    done
    read -r k1 t1 <<<"${row[0]}"; read -r kn tn <<<"${row[1]}"
    if [[ $k1 =~ ^[0-9]+$ && $kn =~ ^[0-9]+$ ]]; then
      ratio=$(awk -v k="$kn" -v w="$w" 'BEGIN { printf "%.1f", k * 1024 / w }')
      echo "| $m | $(mb2 "$w") | \`fpaudit $v\` | $(mb "$k1") | $(mb "$kn") ($n) | $ratio | $t1; $tn |"
    else
      echo "| $m | $(mb2 "$w") | \`fpaudit $v\` | ${row[0]} | ${row[1]} ($n) | | |"
    fi
  done
done | tee "$out/table.md"
echo "raw outputs and times: $out" >&2
