#!/usr/bin/env bash
# The int64 BERT (token ids and an attention mask, two inputs) as a user audits it: `fpaudit
# audit` and `fpaudit bounds` with one --input NAME=FILE per input and with one .npz, every
# chain, no bound violated; and the mistakes a user makes with several inputs refused with one
# line on stderr, exit 2, nothing written.
#   bert_cli_test.sh FPAUDIT_BINARY DATA_ZOO_DIR
set -u
fpaudit=$1
zoo=$2
expected=/dev/null
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/../cli/common.sh"
in_scratch_dir

ids="input_ids=$zoo/bert-input_ids.npy"
mask="attention_mask=$zoo/bert-attention_mask.npy"
all=fp32,fp16,fp16-acc32,bf16,bf16-acc32,fp8-e4m3-acc32,fp8-e5m2-acc32
"$fpaudit" audit "$zoo/bert.onnx" --input "$ids" --input "$mask" --samples 3 --chains "$all" --threads 2 \
  --format json,csv --out run --fail-on violation >out.txt 2>err.txt || fail "audit: exit code $?: $(cat err.txt)"
[[ -s run/audit.json ]] || fail "audit did not write run/audit.json"
[[ ! -s err.txt ]] || fail "audit wrote to stderr: $(cat err.txt)"
"$fpaudit" bounds "$zoo/bert.onnx" --input "$ids" --input "$mask" --samples 3 --chains fp16,bf16 >bounds.txt 2>err.txt ||
  fail "bounds: exit code $?: $(cat err.txt)"
grep -q "on 3 samples of $ids, $mask" bounds.txt || fail "bounds does not name its inputs: $(head -1 bounds.txt)"

# The same data as one .npz keyed by input name (numpy.savez's layout: stored members), written
# with Perl's core IO::Compress::Zip.
mkdir npz && cp "$zoo/bert-input_ids.npy" npz/input_ids.npy && cp "$zoo/bert-attention_mask.npy" npz/attention_mask.npy
(cd npz && perl -MIO::Compress::Zip=:all -e 'zip [@ARGV] => "../bert.npz", Method => ZIP_CM_STORE, Minimal => 1 or die' \
  input_ids.npy attention_mask.npy) || fail "writing bert.npz"
"$fpaudit" audit "$zoo/bert.onnx" --input bert.npz --samples 3 --chains "$all" --threads 1 --format csv --out run_npz \
  >/dev/null 2>err.txt || fail "audit of the .npz: exit code $?: $(cat err.txt)"
# One thread or two, one .npz or two .npy: the same audit, number for number.
for f in layers.csv samples.csv; do cmp -s run/$f run_npz/$f || fail "the .npz audit's $f differs from the .npy one's"; done

npy f32.npy f4 4,16 1
npy short.npy i8 4,15 1
expect_error "fpaudit: error: $zoo/bert-input_ids.npy: the model has no runtime input 'ids' (its inputs: 'input_ids', 'attention_mask')" \
  audit "$zoo/bert.onnx" --input "ids=$zoo/bert-input_ids.npy" --input "$mask" --out bad1
expect_error "fpaudit: error: $zoo/bert.onnx: input 'attention_mask' has no data; give it with --input attention_mask=FILE.npy (or in the .npz)" \
  audit "$zoo/bert.onnx" --input "$ids" --out bad2
expect_error "fpaudit: error: f32.npy: input 'input_ids': the model's input is int64 but the array holds float32 data" \
  audit "$zoo/bert.onnx" --input input_ids=f32.npy --input "$mask" --out bad3
expect_error "fpaudit: error: $zoo/bert-input_ids.npy: input 'input': the model's input is float32 but the array holds int64 data" \
  audit "$zoo/bert_embeds.onnx" --input "input=$zoo/bert-input_ids.npy" --out bad4
expect_error "fpaudit: error: short.npy: input 'attention_mask': a sample [1, 15] of the array [4, 15] does not fit the model's input [?, 16] (sample axis 0; choose with --sample-axis N|none)" \
  audit "$zoo/bert.onnx" --input "$ids" --input attention_mask=short.npy --out bad5
expect_error "fpaudit: error: $zoo/bert-input_ids.npy: the model has 2 runtime inputs ('input_ids', 'attention_mask'); name each one: --input NAME=FILE.npy, or one .npz keyed by input names" \
  bounds "$zoo/bert.onnx" --input "$zoo/bert-input_ids.npy"
for d in bad1 bad2 bad3 bad4 bad5; do [[ -e $d ]] && fail "a refused audit left $d behind"; done

finish "the int64 BERT audits and bounds from named inputs and an .npz; bad inputs refused"
