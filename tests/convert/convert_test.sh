#!/usr/bin/env bash
# fpaudit convert as a user runs it: every committed converted model of data/converted comes out
# byte for byte, the kept set prints in the three block-list forms, and bad input gets one line,
# exit code 2 and no file.
#   convert_test.sh FPAUDIT DATA_DIR EXPECTED_DIR
fpaudit=$1
data=$2
expected=$3
failures=0
source "$(dirname "$0")/../cli/common.sh"
in_scratch_dir

# same_bytes NAME ARGS...: `fpaudit convert ARGS... --out NAME.onnx` equals data/converted/NAME.onnx.
same_bytes() {
  local name=$1
  shift
  "$fpaudit" convert "$@" --out "$name.onnx" >/dev/null || fail "$name: fpaudit convert exited $?"
  cmp -s "$name.onnx" "$data/converted/$name.onnx" || fail "$name.onnx differs from data/converted/$name.onnx"
}
same_bytes mlp_fp16 "$data/mlp.onnx"
same_bytes cnn_fp16 "$data/cnn.onnx"
same_bytes vit_fp16 "$data/vit.onnx"
same_bytes cnn_keep "$data/cnn.onnx" --keep "$data/converted/cnn_keep.txt"
cmp -s cnn_keep.blocklists.txt "$data/converted/cnn_keep.blocklists.txt" || fail "cnn_keep.blocklists.txt differs"
# The keep file and the same names as a comma list: the same model.
rm -f cnn_keep.onnx
same_bytes cnn_keep "$data/cnn.onnx" --keep /features/features.1/BatchNormalization,/head/Gemm

# What a user reads, block lists printed instead of written.
expect_output convert_cnn_keep.txt convert "$data/cnn.onnx" --keep "$data/converted/cnn_keep.txt" --out printed.onnx \
  --print-blocklists
[[ -e printed.blocklists.txt ]] && fail "--print-blocklists wrote printed.blocklists.txt"

# Bad input: one line, exit 2, nothing written.
expect_error "fpaudit: error: $data/cnn.onnx: --keep: no node named '/head/Gemmm' computes an output of this model (\`fpaudit inspect\` lists the names)" \
  convert "$data/cnn.onnx" --keep /features/features.0/Conv,/head/Gemmm --out bad.onnx
[[ -e bad.onnx || -e bad.blocklists.txt ]] && fail "a refused conversion wrote a file"
expect_error "fpaudit: error: --format: fp8 not in {fp16,bf16}" convert "$data/cnn.onnx" --format fp8 --out bad.onnx
expect_error "fpaudit: error: --out is required" convert "$data/cnn.onnx"
expect_error "fpaudit: error: missing.onnx: cannot open: no such file" convert missing.onnx --out bad.onnx
[[ -e bad.onnx ]] && fail "a refused conversion wrote bad.onnx"

[[ $failures -eq 0 ]] && echo "convert: 4 committed models reproduced byte for byte, block lists and errors as expected"
exit $((failures > 0))
