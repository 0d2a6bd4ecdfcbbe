#!/usr/bin/env bash
# --task, --class-axis and --tolerance as a user meets them (issue 15, point 3): the automatic
# choice stated in the verdict, the zoo's U-Net audited as a segmentation, a regression verdict
# asked for by --task, and every bad value refused with one line and exit 2 before any work.
#   tasks_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failures=0
source "$here/common.sh"
in_scratch_dir

unet=(audit "$data/zoo/unet.onnx" --input "$data/zoo/unet-input.npy" --samples 1 --no-progress --no-margin --no-apriori)
mlp=(audit "$data/mlp.onnx" --input "$data/test_images.npy" --samples 3 --chains fp16,fp32 --no-progress --no-margin)

# expect_refused PREFIX ARGS...: exit 2, nothing on stdout, one stderr line starting with PREFIX,
# and no output folder written.
expect_refused() {
  local prefix=$1
  shift
  local out err rc
  out=$("$fpaudit" "$@" --out refused 2>err.txt)
  rc=$?
  err=$(cat err.txt)
  if [[ $rc -ne 2 || -n $out || $(wc -l <err.txt) -ne 1 || $err != "$prefix"* || -e refused ]]; then
    fail "fpaudit $*: exit $rc, stdout '$out', stderr '$err' (want exit 2 and '$prefix...')"
  fi
}

expect_refused "fpaudit: error: --task classify: output '" "${unet[@]}" --task classify
expect_refused "fpaudit: error: --class-axis 4 is outside the 4 axes of output '" "${unet[@]}" --class-axis 4
expect_refused "fpaudit: error: --tolerance: rtol must be a finite number ≥ 0, not 'x'" "${unet[@]}" --tolerance rtol=x
expect_refused "fpaudit: error: --tolerance expects rtol=X,atol=Y" "${unet[@]}" --tolerance 0.01
expect_refused "fpaudit: error: --task: " "${unet[@]}" --task classification
expect_refused "fpaudit: error: --task segment: output 'logits' [1, 10] has no class axis 0" "${mlp[@]}" --task segment --class-axis 0

# The U-Net: a class map [1, 2, 32, 32], judged per pixel.
out=$("$fpaudit" "${unet[@]}" --chains fp16,fp8-e4m3-acc32 --format table,json --out unet 2>err.txt) || fail "unet: exit $?, $(cat err.txt)"
[[ $out == *"task: segment (auto: output [1, 2, 32, 32], classes along axis 1; --task to change)"* ]] || fail "unet: no segment task line in: $out"
[[ $out == *"pixels"*"certified"* ]] || fail "unet: no per-pixel verdict in: $out"
grep -q '"task": "segment"' unet/audit.json || fail "unet: audit.json holds no segment task"
grep -q '"decisions": 1024' unet/audit.json || fail "unet: audit.json does not judge 1024 pixels per chain"
# Its margin certificate is off, with the reason: the flattened map's top entry is no decision
# (and certifying it took one backward pass per pixel and class, minutes per sample).
"$fpaudit" audit "$data/zoo/unet.onnx" --input "$data/zoo/unet-input.npy" --samples 1 --chains fp32 --no-progress \
  --format json --out unet-margin >/dev/null 2>err.txt || fail "unet margin: exit $?, $(cat err.txt)"
grep -q '"reason": "a first output judged as segment, not as one class decision"' unet-margin/audit.json ||
  fail "unet: the margin certificate's reason is missing from audit.json"

# The MLP without labels: its output is named 'logits', a classification; --task regress judges
# it against a tolerance instead.
out=$("$fpaudit" "${mlp[@]}" --format table 2>err.txt) || fail "mlp: exit $?, $(cat err.txt)"
[[ $out == *"task: classify (auto: output [1, 10] named 'logits'; --task to change)"* ]] || fail "mlp: task line missing in: $out"
[[ $out == *"flips"* ]] || fail "mlp: the classification verdict is missing"
out=$("$fpaudit" "${mlp[@]}" --format table --task regress --tolerance rtol=0,atol=0.05 2>err.txt) || fail "mlp regress: exit $?, $(cat err.txt)"
[[ $out == *"task: regress (tolerance rtol=0 atol=0.05; --task)"* ]] || fail "mlp regress: task line missing in: $out"
[[ $out == *"within tol."* && $out != *"flips, Δ acc."* ]] || fail "mlp regress: not a regression verdict: $out"

# Task verdicts as --fail-on gates (exit 1, one stderr line per failed gate and chain) and in
# tasks.csv and audit.tex.
gates() {  # gates WANT_RC WANT_STDERR ARGS...: the exit code and stderr of an audit with gates
  local want_rc=$1 want=$2
  shift 2
  "$fpaudit" "$@" >/dev/null 2>err.txt
  local rc=$?
  [[ $rc -eq $want_rc && $(cat err.txt) == "$want" ]] || fail "fpaudit $*: exit $rc, stderr '$(cat err.txt)' (want $want_rc, '$want')"
}
gates 1 $'fpaudit: --fail-on: fp16: tolerance 3 > 0\nfpaudit: --fail-on: fp16: tolerance-unproved 3 > 0\nfpaudit: --fail-on: fp32: tolerance-unproved 3 > 0' \
  "${mlp[@]}" --format table --task regress --tolerance rtol=0,atol=0.001 --fail-on tolerance,tolerance-unproved
gates 0 "" "${mlp[@]}" --format table --task regress --tolerance rtol=0,atol=0.001 --fail-on "tolerance>3"
gates 1 $'fpaudit: --fail-on: fp16: pixel-flips 0.292969% > 0.01%\nfpaudit: --fail-on: fp8-e4m3-acc32: pixel-flips 6.93359% > 0.01%' \
  "${unet[@]}" --chains fp16,fp8-e4m3-acc32 --format csv,tex --out gated --fail-on "pixel-flips>0.01%"
gates 0 "" "${unet[@]}" --chains fp16,fp8-e4m3-acc32 --format table --fail-on "pixel-flips>7%"
expect_refused "fpaudit: error: --fail-on tolerance: no output is judged as a regression (outputs: 'logits' classify; choose with --task)" \
  "${mlp[@]}" --fail-on tolerance
expect_refused "fpaudit: error: --fail-on: 'pixel-flips>1': expected 'pixel-flips>N%' with N a non-negative number" \
  "${unet[@]}" --fail-on "pixel-flips>1"
[[ $(sed -n 2p gated/tasks.csv) == "logits,segment,fp16,1,,,,,,,,,,,1024,3,1,1017,0,0,0.001167950107506588" ]] ||
  fail "tasks.csv: $(cat gated/tasks.csv)"
[[ $(wc -l <gated/tasks.csv) -eq 3 ]] || fail "tasks.csv should hold a header and one row per chain"
grep -q "caption{Output 'logits' \[1, 2, 32, 32\] as per-pixel classes along axis 1" gated/audit.tex ||
  fail "audit.tex holds no task table"
grep -q "^% task: segment" gated/audit.tex || fail "audit.tex does not say the task"

finish "all task checks passed"
