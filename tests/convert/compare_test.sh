#!/usr/bin/env bash
# fpaudit audit --compare with ONNX Runtime's committed outputs (data/converted): ORT's fp16
# models lie within the fp16-acc32 chain's a-priori bound on every sample, the reports carry the
# comparison (table, JSON, CSV, Markdown, `fpaudit report` of the saved JSON), 1 and 2 threads
# agree, and bad files are refused with one line, exit 2 and nothing written.
#   compare_test.sh FPAUDIT DATA_DIR EXPECTED_DIR
fpaudit=$1
data=$2
expected=$3
failures=0
source "$(dirname "$0")/../cli/common.sh"
in_scratch_dir
c=$data/converted
x=(--input "$data/test_images.npy" --labels "$data/test_labels.npy" --samples 16 --no-progress)

# json_field FILE EXPR: a field of an audit JSON, read with Perl (EXPR like {compare}[0]{bound}{within}).
json_field() { perl -MJSON::PP -0777 -ne "my \$j = decode_json(\$_); print \$j->$2" "$1"; }
# compare_json FILE: the compare array alone, canonical.
compare_json() { perl -MJSON::PP -0777 -ne 'print JSON::PP->new->canonical->encode(decode_json($_)->{compare})' "$1"; }
# within_bound FILE K NAME: run K is NAME, judged by fp16-acc32, inside its bound on all 16 samples, no flip.
within_bound() {
  local got
  got=$(json_field "$1" "{compare}[$2]{name}").$(json_field "$1" "{compare}[$2]{chain}")
  got+=" $(json_field "$1" "{compare}[$2]{bound}{within}")/$(json_field "$1" "{compare}[$2]{bound}{outside}")"
  got+=" flips $(json_field "$1" "{compare}[$2]{flips_vs_reference}")"
  [[ $got == "$3.fp16-acc32 16/0 flips 0" ]] || fail "$1: compare[$2]: $got (want $3.fp16-acc32 16/0 flips 0)"
}

# The MLP: ONNX Runtime's fp16 model judged by fp16-acc32, by the closest chain, and its fp32 run.
"$fpaudit" audit "$data/mlp.onnx" "${x[@]}" --threads 1 --chains fp32,fp16,fp16-acc32 \
  --compare "ort-fp16@fp16-acc32=$c/mlp_fp16-ort.npy" --compare "ort-fp16-closest=$c/mlp_fp16-ort.npy" \
  --compare "ort-fp32@fp32=$c/mlp_fp32-ort.npy" --format table,json,csv,md --out mlp >mlp.txt 2>mlp.err ||
  fail "mlp audit exited $?: $(cat mlp.err)"
within_bound mlp/audit.json 0 ort-fp16
# ONNX Runtime's CPU runs the fp16 model's operators in float32 (fp16 weights, float32
# activations): closest to the fp32 chain, not to any 16-bit chain.
[[ $(json_field mlp/audit.json '{compare}[1]{chain}') == fp32 ]] || fail "mlp: the closest chain to ORT fp16 is not fp32"
[[ $(json_field mlp/audit.json '{compare}[1]{chain_rule}') == closest ]] || fail "mlp: compare[1] not chosen as the closest"
sed -n '/^real runtimes/,/does not model/p' mlp.txt >mlp_compare.txt
diff mlp_compare.txt "$expected/compare_mlp.txt" || fail "mlp: the --compare tables differ from expected/compare_mlp.txt"
head -1 mlp/compare.csv | grep -q '^runtime,chain,chain_rule,samples,max_abs,.*max_abs_diff_fp16-acc32' || fail "mlp/compare.csv header: $(head -1 mlp/compare.csv)"
[[ $(wc -l <mlp/compare.csv) -eq 4 ]] || fail "mlp/compare.csv: $(wc -l <mlp/compare.csv) lines, want 4"
grep -q '^## Real runtimes (--compare)' mlp/audit.md || fail "mlp/audit.md has no --compare section"
# A saved run renders the same comparison.
"$fpaudit" report mlp/audit.json --format table | sed -n '/^real runtimes/,/does not model/p' | diff - mlp_compare.txt ||
  fail "fpaudit report of the saved JSON renders a different comparison"
# Two threads: the same numbers.
"$fpaudit" audit "$data/mlp.onnx" "${x[@]}" --threads 2 --chains fp32,fp16,fp16-acc32 \
  --compare "ort-fp16@fp16-acc32=$c/mlp_fp16-ort.npy" --compare "ort-fp16-closest=$c/mlp_fp16-ort.npy" \
  --compare "ort-fp32@fp32=$c/mlp_fp32-ort.npy" --format json --out mlp2 >/dev/null || fail "mlp audit (2 threads) exited $?"
[[ $(compare_json mlp/audit.json) == "$(compare_json mlp2/audit.json)" ]] || fail "mlp: 1 and 2 threads compare differently"

# The CNN, all-fp16 and with two nodes kept in float32.
"$fpaudit" audit "$data/cnn.onnx" "${x[@]}" --chains fp32,fp16-acc32 --compare "ort-fp16@fp16-acc32=$c/cnn_fp16-ort.npy" \
  --compare "ort-keep@fp16-acc32=$c/cnn_keep-ort.npy" --format json --out cnn >/dev/null 2>cnn.err ||
  fail "cnn audit exited $?: $(cat cnn.err)"
within_bound cnn/audit.json 0 ort-fp16
within_bound cnn/audit.json 1 ort-keep

# Bad files: one line, exit 2, no report folder.
npy nan.npy f4 16,10 1.5 nan
npy three.npy f4 16,3 1
expect_error "fpaudit: error: $data/mlp_logits8.npy: --compare ort: shape [8, 10] of float32 does not hold the model's output [1, 10] for the 16 audited samples (expected floating-point [M, ...] with 10 values per sample, 16 <= M <= 2000: row i for input sample i)" \
  audit "$data/mlp.onnx" "${x[@]}" --compare "ort=$data/mlp_logits8.npy" --out bad
expect_error "fpaudit: error: three.npy: --compare ort: shape [16, 3] of float32 does not hold the model's output [1, 10] for the 16 audited samples (expected floating-point [M, ...] with 10 values per sample, 16 <= M <= 2000: row i for input sample i)" \
  audit "$data/mlp.onnx" "${x[@]}" --compare ort=three.npy --out bad
expect_error "fpaudit: error: nan.npy: --compare ort: sample 0 element 1 is NaN" \
  audit "$data/mlp.onnx" "${x[@]}" --compare ort=nan.npy --out bad
expect_error "fpaudit: error: $c/mlp_fp16-ort.npy: --compare ort: chain 'fp64' is not among the audited chains" \
  audit "$data/mlp.onnx" "${x[@]}" --compare "ort@fp64=$c/mlp_fp16-ort.npy" --out bad
expect_error "fpaudit: error: --compare 'ort.npy': expected NAME[@CHAIN]=OUTPUTS.npy (e.g. ort-fp16@fp16-acc32=ort.npy)" \
  audit "$data/mlp.onnx" "${x[@]}" --compare ort.npy --out bad
expect_error "fpaudit: error: --compare 'a=nan.npy': the name 'a' is given twice" \
  audit "$data/mlp.onnx" "${x[@]}" --compare a=three.npy --compare a=nan.npy --out bad
[[ -e bad ]] && fail "a refused --compare wrote the report folder"

[[ $failures -eq 0 ]] && echo "compare: ONNX Runtime's fp16 MLP and CNN (all-fp16 and kept) within fp16-acc32's bound on 16/16 samples"
exit $((failures > 0))
