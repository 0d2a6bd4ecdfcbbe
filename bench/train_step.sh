#!/usr/bin/env bash
# What a training-step audit costs next to the forward audit of the same images and chains
# (issue #18 asks for at most 3x), measured side by side in one run: CPU seconds (user + system)
# of `fpaudit train-step` and of `fpaudit audit` (the default audit, a-priori and margin
# certificates included, and with --no-margin), one thread each. Prints a Markdown table.
#
# Settings (environment variables, defaults in brackets):
#   MODELS [mlp cnn vit]   N_MLP [128]  N_CNN [32]  N_VIT [16]   the batch (train-step) = the samples (audit)
#   CHAINS [fp32,fp16,fp16-acc32,bf16]           BUILD [build]
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODELS:=mlp cnn vit}" "${N_MLP:=128}" "${N_CNN:=32}" "${N_VIT:=16}" "${CHAINS:=fp32,fp16,fp16-acc32,bf16}" "${BUILD:=build}"
fpaudit=$BUILD/fpaudit
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# CPU seconds of a command (user + system), from GNU time.
cpu() {
  /usr/bin/time -f "%U %S" -o "$scratch/time" "$@" >/dev/null 2>"$scratch/stderr" || { cat "$scratch/stderr" >&2; exit 1; }
  awk '{ printf "%.2f", $1 + $2 }' "$scratch/time"
}

echo "| model | samples | chains | train-step (s) | audit (s) | ratio | audit --no-margin (s) | ratio |"
echo "|---|---|---|---|---|---|---|---|"
for model in $MODELS; do
  n_var="N_${model^^}"
  n=${!n_var}
  train=$(cpu "$fpaudit" train-step "data/$model.onnx" --samples "$n" --chains "$CHAINS" --threads 1)
  audit=$(cpu "$fpaudit" audit "data/$model.onnx" --samples "$n" --chains "$CHAINS" --threads 1 --out "$scratch/a" --format json)
  plain=$(cpu "$fpaudit" audit "data/$model.onnx" --samples "$n" --chains "$CHAINS" --threads 1 --no-margin --out "$scratch/b" --format json)
  echo "| $model | $n | $CHAINS | $train | $audit | $(awk -v a="$train" -v b="$audit" 'BEGIN{printf "%.2f", a/b}') | $plain | $(awk -v a="$train" -v b="$plain" 'BEGIN{printf "%.2f", a/b}') |"
done
