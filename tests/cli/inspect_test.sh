#!/usr/bin/env bash
# fpaudit inspect as a user runs it: the table and the CSV of a small model compared line by line
# with the expected files, and bad input refused with one line on stderr and exit code 2.
#   inspect_test.sh FPAUDIT_BINARY TESTS_DATA_DIR EXPECTED_DIR
set -u
fpaudit=$1
cd "$2" || exit 1
expected=$3
failures=0

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

expect_output inspect_tiny_cnn.txt inspect models/tiny_cnn.onnx
expect_output inspect_tiny_cnn_batch3.csv inspect models/tiny_cnn.onnx --input-shape 3,1,8,8 --csv

expect_error "fpaudit: error: models/truncated.onnx: not a valid ONNX model (the protobuf encoding is truncated or corrupt)" \
  inspect models/truncated.onnx
expect_error "fpaudit: error: models/none.onnx: cannot open: no such file" inspect models/none.onnx
expect_error "fpaudit: error: models/tiny_cnn.onnx: input 'image': given shape [1, 3, 8, 8] does not match the declared shape [?, 1, 8, 8]" \
  inspect models/tiny_cnn.onnx --input-shape 1,3,8,8
expect_error "fpaudit: error: --input-shape '1,x': expected non-negative integers separated by commas" \
  inspect models/tiny_cnn.onnx --input-shape 1,x

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all fpaudit inspect checks passed"
