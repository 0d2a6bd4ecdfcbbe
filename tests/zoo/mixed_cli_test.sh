#!/usr/bin/env bash
# Mixed chains on the zoo ResNet-18 as a user runs them: residual Adds kept in binary32 (both
# inputs crossing from binary16 or bfloat16), the classifier head kept, every bound holding
# (--fail-on violation), one thread and two giving the same audit.
#   mixed_cli_test.sh FPAUDIT_BINARY DATA_ZOO_DIR
set -u
fpaudit=$1
zoo=$2
expected=/dev/null
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/../cli/common.sh"
in_scratch_dir

chains="fp16+fp32:Add,fp16-acc32+fp32:Add,/fc/Gemm,bf16+fp32:Add"
for threads in 1 2; do
  "$fpaudit" audit "$zoo/resnet18.onnx" --input "$zoo/resnet18-input.npy" --samples 2 --threads "$threads" \
    --chains "$chains" --format json --out "run$threads" --fail-on violation >out.txt 2>err.txt ||
    fail "audit, $threads threads: exit code $?: $(cat err.txt)"
done
/usr/bin/python3 - run1/audit.json run2/audit.json <<'PY' || fail "1 and 2 threads differ, a chain is misnamed or checked nothing"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for j in (a, b):
    j.pop("timing", None)
    j.pop("threads", None)
checked = {c["name"]: 0 for c in a["chains"]}
for layer in a["layers"]:
    for name, v in layer["chains"].items():
        checked[name] += v["bounds"]["local"]["checked"]
print(checked)
want = {"fp16+fp32:Add", "fp16-acc32+fp32:Add,/fc/Gemm", "bf16+fp32:Add"}
sys.exit(0 if a == b and set(checked) == want and all(checked.values()) else 1)
PY

finish "mixed chains on ResNet-18: residual Adds and the head kept in binary32, every bound holding, 1 thread = 2"
