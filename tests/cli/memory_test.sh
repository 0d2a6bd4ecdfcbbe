#!/usr/bin/env bash
# Peak memory does not grow with the number of samples beyond the per-sample records (issue 16):
# samples stream through the audit's workspaces one at a time, so what grows with N is only the
# records and the report's rows (measured 150-300 kB per sample on the ViT, before and after the
# memory work), while keeping one sample's working set (every chain's activations and bounds)
# would cost 20 MB or more per sample on these models. Measured with GNU time's maximum resident
# set size; skipped (77) where /usr/bin/time is missing. No timing.
#   memory_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
here=$(dirname "${BASH_SOURCE[0]}")
failures=0
source "$here/common.sh"
[[ -x /usr/bin/time ]] || { echo "no /usr/bin/time: skipped"; exit 77; }
in_scratch_dir

# peak_kb ARGS...: the audit's peak resident set in kB.
peak_kb() {
  /usr/bin/time -f "%M" -o peak.txt "$fpaudit" audit "$@" --threads 1 --no-progress --format json --out run >/dev/null 2>err.txt ||
    fail "audit $*: exit code $?, $(cat err.txt)"
  tail -1 peak.txt
}

# grows_at_most NAME FEW MANY ARGS...: the peak with MANY samples is at most the peak with FEW
# plus 5 % and 1 MB per added sample.
grows_at_most() {
  local name=$1 few=$2 many=$3
  shift 3
  local a b
  a=$(peak_kb "$@" --samples "$few")
  b=$(peak_kb "$@" --samples "$many")
  local allowed=$((a + a / 20 + (many - few) * 1024))
  echo "$name: peak $a kB with $few samples, $b kB with $many (allowed $allowed)"
  [[ $b -le $allowed ]] || fail "$name: peak memory grew from $a kB ($few samples) to $b kB ($many samples)"
}

grows_at_most "CNN, full audit" 4 32 "$data/cnn.onnx" --input "$data/test_images.npy"
grows_at_most "ViT, no margin pass" 2 16 "$data/vit.onnx" --input "$data/test_images.npy" --no-margin

finish "all memory checks passed"
