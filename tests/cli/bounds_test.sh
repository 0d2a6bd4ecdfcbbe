#!/usr/bin/env bash
# fpaudit bounds and the audit's certificates as a user runs them: the a-priori report of the
# shipped MLP (table and JSON), the audit's new classification fields, and bad input refused with
# one line on stderr and exit code 2.
#   bounds_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=$("$fpaudit" bounds "$data/mlp.onnx" --input "$data/test_images.npy" --samples 16 --chains fp32,fp16-acc32 \
      --lambda 7 --threads 1 --json "$tmp/bounds.json" 2>"$tmp/err")
rc=$?
[[ $rc -eq 0 && ! -s $tmp/err ]] || fail "bounds: exit code $rc, stderr $(cat "$tmp/err")"
grep -q "certified a priori on 16 samples" <<<"$out" || fail "bounds: no certificate summary in the table"
grep -q '"schema": "fpaudit.bounds"' "$tmp/bounds.json" || fail "bounds: JSON schema missing"
grep -q '"equals_fp32_and_exact"' "$tmp/bounds.json" || fail "bounds: JSON lacks equals_fp32_and_exact"
# fp32 on the MLP: every one of these 16 samples is certified a priori (deterministically).
tr -d ' \n' <"$tmp/bounds.json" | grep -q '"fp32":{"certified_and_correct":null,"delta_bound_max":[0-9.e+-]*,"deterministic":16,' ||
  fail "bounds: fp32 does not certify all 16 samples"

# Deterministic: 1 and 2 threads give the same JSON, byte for byte, apart from the timing block.
"$fpaudit" bounds "$data/mlp.onnx" --input "$data/test_images.npy" --samples 16 --chains fp32,fp16,bf16-acc32 \
  --threads 2 --json "$tmp/bounds2.json" >/dev/null 2>"$tmp/err" || fail "bounds --threads 2: exit code $?, $(cat "$tmp/err")"
untimed() { grep -v -e '"seconds":' -e '"threads":' "$1"; }
"$fpaudit" bounds "$data/mlp.onnx" --input "$data/test_images.npy" --samples 16 --chains fp32,fp16,bf16-acc32 \
  --threads 1 --json "$tmp/bounds1.json" >/dev/null 2>"$tmp/err" || fail "bounds --threads 1: exit code $?, $(cat "$tmp/err")"
[[ $(grep -c -e '"seconds":' -e '"threads":' "$tmp/bounds1.json") -eq 2 ]] || fail "bounds JSON: timing block not as expected"
cmp -s <(untimed "$tmp/bounds1.json") <(untimed "$tmp/bounds2.json") ||
  fail "bounds: 1 and 2 threads differ: $(diff <(untimed "$tmp/bounds1.json") <(untimed "$tmp/bounds2.json") | head -5)"

"$fpaudit" audit "$data/mlp.onnx" --input "$data/test_images.npy" --samples 8 --chains fp32,fp16 --threads 1 \
  --out "$tmp/audit" --format json --no-progress >/dev/null 2>"$tmp/err" || fail "audit: exit code $?, $(cat "$tmp/err")"
for field in '"a_priori"' '"a_posteriori"' '"certificate_violations": 0' '"certified_a_priori"' '"delta_bound_a_priori"'; do
  grep -q "$field" "$tmp/audit/audit.json" || fail "audit JSON lacks $field"
done

err=$("$fpaudit" bounds "$tmp/missing.onnx" 2>&1 >/dev/null)
rc=$?
[[ $rc -eq 2 && $(wc -l <<<"$err") -eq 1 ]] || fail "bounds of a missing model: exit code $rc, stderr '$err'"
err=$("$fpaudit" bounds "$data/mlp.onnx" --lambda -1 2>&1 >/dev/null)
rc=$?
[[ $rc -eq 2 && $err == *lambda* ]] || fail "bounds --lambda -1: exit code $rc, stderr '$err'"

[[ $failures -eq 0 ]] && echo "bounds CLI: all checks passed"
exit $((failures > 0))
