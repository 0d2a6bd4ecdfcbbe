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

# Symbolic dimensions by name: tiny_cnn's batch N, and a fully convolutional net's N, H and W
# (its pooled sizes, floor(H/2), shown as "?": no affine form in H).
expect_output inspect_tiny_cnn.txt inspect models/tiny_cnn.onnx
expect_output inspect_fcn_symbolic.txt inspect models/fcn_symbolic.onnx
expect_output inspect_fcn_symbolic.csv inspect models/fcn_symbolic.onnx --csv
# Shapes given by name, or taken from data (one sample of [3, 1, 8, 8]): a batch of one.
expect_output inspect_tiny_cnn_n1.txt inspect models/tiny_cnn.onnx --shape image=1x1x8x8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npy "$work/x.npy" f4 3,1,8,8 0.5
expect_output inspect_tiny_cnn_n1.txt inspect models/tiny_cnn.onnx --input "$work/x.npy"
expect_output inspect_tiny_cnn_n1.txt inspect models/tiny_cnn.onnx --input "image=$work/x.npy"
expect_output inspect_tiny_cnn_batch3.csv inspect models/tiny_cnn.onnx --input-shape 3,1,8,8 --csv
expect_output inspect_tiny_cnn_batch3.csv inspect models/tiny_cnn.onnx --shape image=3x1x8x8 --csv

expect_error "fpaudit: error: models/truncated.onnx: not a valid ONNX model (the protobuf encoding is truncated or corrupt)" \
  inspect models/truncated.onnx
expect_error "fpaudit: error: models/none.onnx: cannot open: no such file" inspect models/none.onnx
expect_error "fpaudit: error: models/tiny_cnn.onnx: input 'image': given shape [1, 3, 8, 8] does not match the declared shape [?, 1, 8, 8]" \
  inspect models/tiny_cnn.onnx --input-shape 1,3,8,8
expect_error "fpaudit: error: --input-shape '1,x': expected non-negative integers separated by commas" \
  inspect models/tiny_cnn.onnx --input-shape 1,x
expect_error "fpaudit: error: --shape 'img=1x1x8x8': the model has no input 'img' (its inputs: 'image')" \
  inspect models/tiny_cnn.onnx --shape img=1x1x8x8
expect_error "fpaudit: error: --shape '1x1x8x8': expected NAME=DIMS such as x=1x3x224x224" \
  inspect models/tiny_cnn.onnx --shape 1x1x8x8
expect_error "fpaudit: error: --shape '1,1,8,8': expected non-negative integers separated by 'x'" \
  inspect models/tiny_cnn.onnx --shape image=1,1,8,8
expect_error "fpaudit: error: give input shapes one way: --input, --shape or --input-shape" \
  inspect models/tiny_cnn.onnx --shape image=1x1x8x8 --input-shape 1,1,8,8
expect_error "fpaudit: error: models/fcn_symbolic.onnx: input 'image': given shape [1, 3, 1] does not match the declared shape [?, 3, ?, ?]" \
  inspect models/fcn_symbolic.onnx --shape image=1x3x1

finish "all fpaudit inspect checks passed"
