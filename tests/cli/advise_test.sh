#!/usr/bin/env bash
# Mixed chains, fpaudit advise and fpaudit tolerances as a user runs them (issue 13): a mixed
# chain's audit with 0 bound violations and keep-all equal to fp32 bit for bit; advise on the
# shipped MLP and CNN (a non-empty kept set where the base chain misses the target, the printed
# figures those of the final audit, keep.txt and advise.json); an unreachable target (exit 1);
# bad selectors and targets (one line, exit 2); tolerances that hold on the samples.
#   advise_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
in_scratch_dir
py=/usr/bin/python3
x=$data/test_images.npy
y=$data/test_labels.npy

# --- mixed chains in audit, bounds and run ---
out=$("$fpaudit" audit "$data/mlp.onnx" --input "$x" --chains 'fp16,fp16+fp32:Gemm' --samples 32 --threads 2 \
      --format json,table --out mixed 2>err) || fail "audit mixed: exit $?, $(cat err)"
grep -q 'fp16+fp32:Gemm (binary16 storage, binary16 accumulation, sequential sums; kept in binary32: 3 nodes (Gemm x3))' <<<"$out" ||
  fail "audit mixed: the chain's arithmetic text is missing"
$py - mixed/audit.json <<'PY' || fail "audit mixed: bound violations or missing kept block"
import json, sys
j = json.load(open(sys.argv[1]))
kept = [c for c in j["chains"] if c["name"] == "fp16+fp32:Gemm"][0]["kept"]
assert kept["storage"] == "binary32" and kept["selectors"] == ["Gemm"], kept
v = sum(c["bounds"][k]["violations"] for l in j["layers"] for c in l["chains"].values() for k in ("propagated", "local"))
assert v == 0, v
PY
"$fpaudit" bounds "$data/mlp.onnx" --input "$x" --chains 'fp16+fp32:/net/net.5/Gemm' --samples 8 --threads 1 >/dev/null 2>err ||
  fail "bounds mixed: exit $?, $(cat err)"
# Keeping every node is the fp32 chain, bit for bit.
"$fpaudit" run "$data/cnn.onnx" --input "$x" --samples 16 --chain 'fp16+fp32:Conv,BatchNormalization,Relu,MaxPool,AveragePool,Flatten,Gemm' \
  --output all.npy >/dev/null 2>err || fail "run keep-all: exit $?, $(cat err)"
"$fpaudit" run "$data/cnn.onnx" --input "$x" --samples 16 --chain fp32 --output fp32.npy >/dev/null 2>err || fail "run fp32: $(cat err)"
cmp -s all.npy fp32.npy || fail "run: keeping every node differs from fp32"

expect_error "fpaudit: error: --chains 'fp16+fp32:/nope': no node or operator type '/nope' in $data/mlp.onnx" \
  audit "$data/mlp.onnx" --input "$x" --chains 'fp16+fp32:/nope' --samples 2
expect_error "fpaudit: error: --chains 'bf16+fp32:Gemm,Softmax': no node or operator type 'Softmax' in $data/mlp.onnx" \
  bounds "$data/mlp.onnx" --input "$x" --chains 'fp32,bf16+fp32:Gemm,Softmax' --samples 2
expect_error "fpaudit: error: --chain 'fp16+fp32:/nope': no node or operator type '/nope' in $data/mlp.onnx" \
  run "$data/mlp.onnx" --input "$x" --chain 'fp16+fp32:/nope' --output o.npy
expect_error "fpaudit: error: 'fp16+fp32': a mixed chain is BASE+KEPT:SELECTORS (e.g. fp16+fp32:Softmax,/head/Gemm)" \
  audit "$data/mlp.onnx" --input "$x" --chains 'fp16+fp32' --samples 2
expect_error "fpaudit: error: --chains 'fp16+fp32:Gemm': train-step takes plain chains, not mixed ones" \
  train-step "$data/mlp.onnx" --chains 'fp16+fp32:Gemm'

# --- advise ---
# The MLP in fp16: no sample is certified a priori, so layers must be kept; the figures printed
# are the final audit's (advise.json agrees), they meet the target and no bound is violated.
out=$("$fpaudit" advise "$data/mlp.onnx" --input "$x" --labels "$y" --chain fp16 --target certified=99% --samples 200 \
      --threads 2 --out adv 2>err)
rc=$?
[[ $rc -eq 0 && ! -s err ]] || fail "advise mlp: exit $rc, $(cat err)"
grep -q '^keep in fp32 (' <<<"$out" || fail "advise mlp: no kept set printed"
grep -q '^audits run: ' <<<"$out" || fail "advise mlp: audits not counted"
$py - adv <<'PY' || fail "advise mlp: advise.json, keep.txt or audit.json wrong"
import json, sys
d = sys.argv[1]
a = json.load(open(d + "/advise.json"))
assert a["reached"] and a["kept"], a["kept"]
assert a["base_metrics"]["certified_percent"] < 99
m = a["metrics"]
assert m["certified_percent"] >= 99 and m["bound_violations"] == 0, m
assert 0 < a["multiply_adds"]["kept_share"] <= 1
keep = [l.strip() for l in open(d + "/keep.txt") if l.strip() and not l.startswith("#")]
assert keep == a["kept"], keep
audit = json.load(open(d + "/audit.json"))
assert audit["chains"][0]["name"] == a["chain"]
assert audit["chains"][0]["kept"]["selectors"] == keep
# The history ends with audits of the final set or smaller ones; the final set's audit met it.
assert any(h["kept"] == a["kept"] and h["meets"] for h in a["history"])
PY
grep -q "verified by its audit (200 samples): certified a priori 100.0%" <<<"$out" || grep -q "verified by its audit (200 samples): certified a priori 99" <<<"$out" ||
  fail "advise mlp: the verified figures are not printed"

# The deployable model advise wrote is fpaudit convert's for the same kept set, byte for byte;
# its block lists name the kept nodes; onnx's checker accepts it.
"$fpaudit" convert "$data/mlp.onnx" --keep adv/keep.txt --out conv.onnx >/dev/null 2>err || fail "convert keep.txt: $(cat err)"
cmp -s adv/model.onnx conv.onnx || fail "advise mlp: model.onnx differs from fpaudit convert --keep keep.txt"
cmp -s adv/blocklists.txt conv.blocklists.txt || fail "advise mlp: blocklists.txt differs from fpaudit convert's"
grep -q '^node_block_list' adv/blocklists.txt || fail "advise mlp: no node_block_list in blocklists.txt"
$py -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' adv/model.onnx 2>err ||
  fail "advise mlp: onnx checker refuses model.onnx: $(tail -1 err)"
# An 8-bit chain has no ONNX storage type: no model is written for it.
# Flips: the MLP in fp8-e5m2-acc32 flips 4 of these 200 samples; the set found flips none.
"$fpaudit" advise "$data/mlp.onnx" --input "$x" --labels "$y" --chain fp8-e5m2-acc32 --target flips=0 --samples 200 --threads 2 \
  --out flips >out 2>err || fail "advise flips: exit $?, $(cat err)"
$py - flips <<'PY' || fail "advise flips: advise.json wrong"
import json, sys
a = json.load(open(sys.argv[1] + "/advise.json"))
assert a["base_metrics"]["flips"] > 0 and a["reached"] and a["kept"], a
assert a["metrics"]["flips"] == 0 and a["metrics"]["bound_violations"] == 0, a["metrics"]
assert a["multiply_adds"]["kept_share"] < 1, a["multiply_adds"]
PY
[[ ! -e flips/model.onnx ]] || fail "advise flips: an fp8 chain got a model.onnx"
grep -q '^verified by its audit (200 samples): flips 0, ' out || fail "advise flips: verified figures not printed"

# The CNN in bf16 (few samples: seconds): the same checks.
"$fpaudit" advise "$data/cnn.onnx" --input "$x" --chain bf16 --target certified=90% --samples 12 --threads 2 --out cnn >out 2>err ||
  fail "advise cnn: exit $?, $(cat err)"
$py - cnn <<'PY' || fail "advise cnn: advise.json wrong"
import json, sys
a = json.load(open(sys.argv[1] + "/advise.json"))
assert a["reached"] and a["kept"] and a["base_metrics"]["certified_percent"] < 90, a
assert a["metrics"]["certified_percent"] >= 90 and a["metrics"]["bound_violations"] == 0, a["metrics"]
PY

# A target no set reaches (fp32 itself misses it): exit 1, the best set found said.
out=$("$fpaudit" advise "$data/mlp.onnx" --input "$x" --chain fp16 --target rel-error=1e-12 --samples 8 --threads 2 2>err)
rc=$?
[[ $rc -eq 1 ]] || fail "advise unreachable: exit $rc (want 1), $(cat err)"
grep -q '^not reachable; best found: ' <<<"$out" || fail "advise unreachable: no 'not reachable; best found' line"

expect_error "fpaudit: error: unknown target 'speed=2' (expected flips=N, certified=P%, accuracy-drop=Xpp or rel-error=T)" \
  advise "$data/mlp.onnx" --input "$x" --target speed=2
expect_error "fpaudit: error: target 'certified=99': expected a number followed by '%'" \
  advise "$data/mlp.onnx" --input "$x" --target certified=99
expect_error "fpaudit: error: --target accuracy-drop=0.1pp needs --labels" \
  advise "$data/mlp.onnx" --input "$x" --target accuracy-drop=0.1pp

# --- tolerances: the forms printed, and the chosen figures hold on the samples ---
out=$("$fpaudit" tolerances "$data/mlp.onnx" --input "$x" --chain fp16 --samples 64 --threads 2 --json tol.json 2>err) ||
  fail "tolerances: exit $?, $(cat err)"
grep -q '^rule: atol = min(proved, 4 x observed max |y - r|)' <<<"$out" || fail "tolerances: rule not stated"
grep -Eq '^  --atol logits:[0-9.e+-]+ --rtol logits:[0-9.e+-]+$' <<<"$out" || fail "tolerances: no Polygraphy form"
grep -Eq '^  np.testing.assert_allclose\(actual, expected, rtol=[0-9.e+-]+, atol=[0-9.e+-]+\)  # logits vs exact$' <<<"$out" ||
  fail "tolerances: no NumPy form"
for c in fp16 ref fp32; do
  "$fpaudit" run "$data/mlp.onnx" --input "$x" --samples 64 --chain $c --output $c.npy >/dev/null 2>err || fail "run $c: $(cat err)"
done
$py - <<'PY' || fail "tolerances: the chosen figures do not hold on the samples, or proved < observed"
import json
import numpy as np
t = json.load(open("tol.json"))["outputs"][0]
y, ref, f32 = np.load("fp16.npy"), np.load("ref.npy"), np.load("fp32.npy")
for against, e in (("against_exact", ref), ("against_fp32", f32)):
    f = t[against]
    assert f["proved_atol"] >= f["observed_abs"] > 0, f
    assert f["atol"] <= f["proved_atol"], f
    np.testing.assert_allclose(y, e, rtol=f["rtol"], atol=f["atol"])
    # atol alone covers every element: the test passes whichever way a tool combines them.
    assert np.max(np.abs(y - e)) <= f["atol"]
PY

[[ $failures -eq 0 ]] && echo "cli_advise: all checks passed"
exit $((failures > 0))
