#!/usr/bin/env bash
# fpaudit picks its vector kernels from the CPU at run time (AVX-512, AVX2, plain x86-64), and
# every set must compute the same bits: an AVX2-only laptop and this AVX-512 machine give the
# same audit. FPAUDIT_ISA caps the level (lib/common/cpu_features.h), so this one machine runs
# the fallbacks too: `fpaudit run` outputs (batched: im2col, GEMM, pools, BatchNorm lanes) and
# the audit JSON (bounds, a-priori and margin certificates) under each cap, against no cap.
#   isa_fallback_test.sh FPAUDIT_BINARY DATA_DIR
set -u
fpaudit=$1
data=$2
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
in_scratch_dir

levels="avx2 baseline"
zoo=$data/zoo
images=$data/test_images.npy

# The level each run used, from the audit JSON (timing.isa), so a cap that did not take is seen.
isa_of() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["timing"]["isa"])' "$1"; }
# The audit JSON without its timing, keys sorted.
strip() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("timing",None); print(json.dumps(d,sort_keys=True))' "$1"; }

# same_run NAME CHAIN ARGS...: fpaudit run's output bytes under each cap equal the uncapped ones.
same_run() {
  local name=$1 chain=$2 level
  shift 2
  "$fpaudit" run "$@" --chain "$chain" --batch 4 --output free.npy >/dev/null 2>err.txt ||
    { fail "$name $chain run: $(cat err.txt)"; return; }
  for level in $levels; do
    FPAUDIT_ISA=$level "$fpaudit" run "$@" --chain "$chain" --batch 4 --output capped.npy >/dev/null 2>err.txt ||
      { fail "$name $chain run FPAUDIT_ISA=$level: $(cat err.txt)"; continue; }
    cmp -s free.npy capped.npy || fail "$name $chain: run output with FPAUDIT_ISA=$level differs"
  done
  echo "$name $chain: run outputs equal under $levels"
}

# same_audit NAME ARGS...: the audit JSON (timing aside) under each cap equals the uncapped one.
same_audit() {
  local name=$1 level
  shift
  "$fpaudit" audit "$@" --threads 1 --format json --out free --no-progress >/dev/null 2>err.txt ||
    { fail "$name audit: $(cat err.txt)"; return; }
  strip free/audit.json >free.json
  for level in $levels; do
    FPAUDIT_ISA=$level "$fpaudit" audit "$@" --threads 1 --format json --out "$level" --no-progress >/dev/null 2>err.txt ||
      { fail "$name audit FPAUDIT_ISA=$level: $(cat err.txt)"; continue; }
    local used
    used=$(isa_of "$level/audit.json")
    [[ $used == "$level" || ($level == avx2 && $used == baseline) ]] ||
      fail "$name: FPAUDIT_ISA=$level ran at level $used"
    cmp -s free.json <(strip "$level/audit.json") || fail "$name: audit JSON with FPAUDIT_ISA=$level differs"
  done
  echo "$name: audit JSON equal under $levels (uncapped: $(isa_of free/audit.json))"
}

for chain in fp32 fp16 bf16-acc32; do
  same_run cnn "$chain" "$data/cnn.onnx" --input "$images" --samples 6
done
same_run vit fp16-acc32 "$data/vit.onnx" --input "$images" --samples 3
for model in resnet18 mobilenetv3_small unet; do
  same_run "$model" fp16 "$zoo/$model.onnx" --input "$zoo/$model-input.npy"
done

same_audit mlp "$data/mlp.onnx" --samples 4
same_audit cnn "$data/cnn.onnx" --samples 3
same_audit vit "$data/vit.onnx" --samples 1
same_audit resnet18 "$zoo/resnet18.onnx" --input "$zoo/resnet18-input.npy" --samples 1

# A level that does not exist is refused before any work: one line, exit 2.
FPAUDIT_ISA=avx9 "$fpaudit" run "$data/mlp.onnx" --samples 1 --output never.npy >out.txt 2>err.txt
rc=$?
[[ $rc -eq 2 && $(wc -l <err.txt) -eq 1 && ! -e never.npy ]] && grep -q "FPAUDIT_ISA='avx9'" err.txt ||
  fail "FPAUDIT_ISA=avx9: exit $rc, stderr: $(cat err.txt)"

finish "every instruction-set level computes the same bits"
