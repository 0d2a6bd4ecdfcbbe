#!/usr/bin/env bash
# fpaudit train-step as a user runs it: the shipped MLP in every output format, the loss-scale
# analysis in the JSON, and bad input refused with one line on stderr and exit code 2, nothing
# written.
#   train_step_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
in_scratch_dir

out=$("$fpaudit" train-step "$data/mlp.onnx" --samples 8 --chains fp32,fp16 --threads 1 --json t.json --markdown t.md \
      --csv t.csv --latex t.tex --html t.html 2>err)
rc=$?
[[ $rc -eq 0 && ! -s err ]] || fail "train-step: exit code $rc, stderr $(cat err)"
grep -q "Training step: 8 samples, cross-entropy loss, sgd" <<<"$out" || fail "train-step: no summary table"
grep -q '"kind": "train-step"' t.json || fail "train-step JSON: kind missing"
grep -q '"recommended_log2"' t.json || fail "train-step JSON: no loss-scale analysis"
grep -q '"violations": 0' t.json || fail "train-step JSON: no bound check"
grep -q '"violations": [1-9]' t.json && fail "train-step JSON: a backward sum beyond its bound"
grep -q '^## Loss scales' t.md || fail "train-step Markdown: no loss-scale table"
[[ $(head -1 t.csv) == chain,* ]] || fail "train-step CSV: header $(head -1 t.csv)"
grep -q 'toprule' t.tex || fail "train-step LaTeX: no booktabs table"
grep -q '<svg' t.html || fail "train-step HTML: no histogram"
table=$("$fpaudit" table t.json 2>err) || fail "table of a train-step JSON: $(cat err)"
grep -q "Training-step audits" <<<"$table" || fail "table: no training-step rows"
grep -q '| `mlp` .*| `fp16` ' <<<"$table" || fail "table: no row for the MLP's fp16 chain"

expect_error "fpaudit: error: --loss must be cross-entropy or mse, not 'hinge'" train-step "$data/mlp.onnx" --loss hinge
expect_error "fpaudit: error: --loss-scale must be a positive number or 'dynamic', not '-4'" train-step "$data/mlp.onnx" --loss-scale=-4
expect_error "fpaudit: error: --labels is required with --input" train-step "$data/mlp.onnx" --input "$data/test_images.npy"
expect_error "fpaudit: error: --batchnorm must be train, eval or model, not 'foo'" train-step "$data/cnn.onnx" --batchnorm foo
expect_error "fpaudit: error: $data/zoo/unet.onnx: 4 labels for an output [4, 2, 32, 32]: one label per sample and position" \
  train-step "$data/zoo/unet.onnx" --input "$data/zoo/unet-input.npy" --labels "$data/zoo/../test_labels.npy" --samples 4 --json never.json
[[ -e never.json ]] && fail "train-step wrote its JSON despite refusing the labels"

# The ViT: attention, LayerNorm, GELU and residual branches, every backward sum within bound.
"$fpaudit" train-step "$data/vit.onnx" --samples 2 --chains fp32,bf16 --threads 1 --json vit.json >/dev/null 2>err \
  || fail "train-step on the ViT: $(cat err)"
grep -q '"violations": [1-9]' vit.json && fail "train-step ViT JSON: a backward sum beyond its bound"
grep -q '"violations": 0' vit.json || fail "train-step ViT JSON: no bound check"

[[ $failures -eq 0 ]] && echo "train-step cli: all checks passed"
exit $((failures > 0))
