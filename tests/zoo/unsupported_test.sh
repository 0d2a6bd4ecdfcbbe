#!/usr/bin/env bash
# The zoo models fpaudit cannot run yet, as a user meets them: `fpaudit audit` refuses each with
# exactly this one line on stderr and exit code 2. When fpaudit learns the feature, this test
# fails: the model then gets a full check in zoo_test.cpp (fp32 against ONNX Runtime, audit).
#   unsupported_test.sh FPAUDIT_BINARY DATA_ZOO_DIR
set -u
fpaudit=$1
zoo=$2
expected=/dev/null
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/../cli/common.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# Recurrent layers.
expect_error "fpaudit: error: $zoo/gru.onnx: node '/gru/GRU' (GRU): operator GRU is not supported by fpaudit" \
  audit "$zoo/gru.onnx" --input "$zoo/gru-input.npy" --out gru
for d in gru; do [[ -e $d ]] && { echo "FAIL a refused audit left $d behind"; failures=$((failures + 1)); }; done

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "the unsupported zoo model is refused with the expected message"
