#!/usr/bin/env bash
# fpaudit audit and fpaudit run as a user runs them, on the shipped MLP: the files an audit
# writes, --fail-on's exit code 1, and bad input refused with one line and exit code 2, leaving
# no output files behind.
#   audit_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
here=$(dirname "${BASH_SOURCE[0]}")
failures=0
source "$here/common.sh"
in_scratch_dir

model=$data/mlp.onnx
images=$data/test_images.npy

# A normal run writes the JSON and both CSVs, and nothing on stderr.
"$fpaudit" audit "$model" --input "$images" --labels "$data/test_labels.npy" --samples 3 --format json,csv --out run \
  >out.txt 2>err.txt || fail "audit: exit code $?"
[[ -s err.txt ]] && fail "audit wrote to stderr: $(cat err.txt)"
for f in audit.json layers.csv samples.csv; do [[ -s run/$f ]] || fail "audit did not write run/$f"; done
grep -q '"schema": "fpaudit.audit"' run/audit.json || fail "audit.json lacks its schema name"
[[ $(wc -l <run/samples.csv) -eq 4 ]] || fail "samples.csv should hold a header and 3 rows"
ls run | grep -q tmp && fail "temporary files left in run/"

# A run predicted to take longer than FPAUDIT_ESTIMATE_AFTER seconds (60 unless set) says so on
# stderr, in one line, after its first sample; the run above (3 MLP samples) stayed silent. On one
# thread the phases of timing.phase_seconds add up to the wall time (every second is in a phase).
FPAUDIT_ESTIMATE_AFTER=0 "$fpaudit" audit "$model" --input "$images" --samples 3 --threads 1 --format json --out est \
  >/dev/null 2>err.txt || fail "audit with an estimate: exit code $?"
[[ $(wc -l <err.txt) -eq 1 ]] &&
  grep -Eq '^fpaudit: estimate: about [0-9]+ s for 3 samples on 1 thread \([0-9.e+]+ M multiply-adds per sample at [0-9.e+]+ M/s per thread, measured on the first sample\)$' err.txt ||
  fail "estimate line: $(cat err.txt)"
perl -MJSON::PP -e '
  local $/; open my $f, "<", $ARGV[0] or die; my $t = decode_json(<$f>)->{timing};
  my $p = $t->{phase_seconds};
  my $sum = $p->{setup} + $p->{reference}{evaluate} + $p->{reference}{bounds} + $p->{certificates} + $p->{margin_certificates} + $p->{other};
  for my $c (values %{$p->{chains}}) { $sum += $c->{evaluate} + $c->{bounds} + $c->{statistics}; }
  exit 1 unless $p->{setup} > 0 && abs($sum - $t->{seconds}) <= 0.01 * $t->{seconds} + 1e-3;
' est/audit.json || fail "timing phases do not add up to the wall time on one thread"

# Inputs of 5000 overflow binary16 in the first Gemm: --fail-on overflow exits 1 and says where.
npy big.npy f4 2,1,28,28 5000
"$fpaudit" audit "$model" --input big.npy --format json --out big --fail-on overflow >/dev/null 2>err.txt
rc=$?
[[ $rc -eq 1 ]] || fail "--fail-on overflow: exit code $rc, want 1"
# One line per failed gate and chain: the chain, the measured value, the threshold.
[[ $(cat err.txt) == $'fpaudit: --fail-on: fp16: overflow 414 > 0\nfpaudit: --fail-on: fp16-acc32: overflow 44 > 0' ]] ||
  fail "--fail-on message: $(cat err.txt)"
"$fpaudit" audit "$model" --input big.npy --format json --out big --fail-on lemma >/dev/null 2>&1 ||
  fail "--fail-on lemma: no lemma violation can occur, yet exit $?"

# The violation detector under mutation (test hook FPAUDIT_TEST_SHRINK_BOUND, lib/shadow/test_hooks.h,
# not a user option): the first Gemm's bounds (layer 1, after Flatten) shrunk to a thousandth must be
# violated, reported in first_violations and fail --fail-on violation with exit code 1; the honest
# run passes it.
"$fpaudit" audit "$model" --input "$images" --samples 2 --chains fp16 --format json --out honest --fail-on violation \
  >/dev/null 2>err.txt || fail "--fail-on violation without the hook: exit code $?, $(cat err.txt)"
# Without the fp32 chain there is no "= fp32 = exact" a-priori certificate (fp32's a-priori
# propagation is skipped): null in the JSON, absent from the table; the run above (all five
# chains) has it.
perl -MJSON::PP -e '
  local $/; open my $f, "<", $ARGV[0] or die; my $c = decode_json(<$f>)->{classification}{chains}{fp16}{certified};
  exit 1 unless defined $c->{a_priori} && !defined $c->{a_priori_equals_fp32_and_exact};
  open $f, "<", $ARGV[1] or die; $c = decode_json(<$f>)->{classification}{chains}{fp16}{certified};
  exit 1 unless defined $c->{a_priori_equals_fp32_and_exact}{deterministic};
' honest/audit.json run/audit.json || fail "a_priori_equals_fp32_and_exact: null without the fp32 chain, present with it"
"$fpaudit" report honest/audit.json --per-layer >report.txt 2>&1 || fail "report of a one-chain audit: exit code $?"
grep -q 'certified det / prob: a priori [0-9.]*% / [0-9.]*%; a posteriori' report.txt ||
  fail "one-chain report: $(grep 'certified det' report.txt)"
FPAUDIT_TEST_SHRINK_BOUND=1:0.001 "$fpaudit" audit "$model" --input "$images" --samples 2 --chains fp16 --format json \
  --out shrunk --fail-on violation >/dev/null 2>err.txt
rc=$?
[[ $rc -eq 1 ]] || fail "--fail-on violation with a shrunk bound: exit code $rc, want 1"
grep -q '^fpaudit: --fail-on: fp16: violation [0-9]* > 0$' err.txt || fail "--fail-on violation message: $(cat err.txt)"
perl -MJSON::PP -e '
  local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>);
  my $b = $j->{layers}[1]{chains}{fp16}{bounds}{propagated};
  my $v = $b->{first_violations};
  exit 1 unless $b->{violations} > 0 && @$v > 0 && $v->[0]{sample} == 0 && $v->[0]{observed} > $v->[0]{bound};
  exit 1 unless $j->{layers}[1]{chains}{fp16}{bounds}{local}{violations} > 0;
  exit 1 unless $j->{layers}[0]{chains}{fp16}{bounds}{propagated}{violations} == 0;
' shrunk/audit.json || fail "shrunk bound: no violation in layer 1's first_violations"
FPAUDIT_TEST_SHRINK_BOUND=0:7 "$fpaudit" audit "$model" --input "$images" --samples 1 --out badhook >/dev/null 2>err.txt
rc=$?
[[ $rc -eq 2 && $(cat err.txt) == "fpaudit: error: FPAUDIT_TEST_SHRINK_BOUND: expected LAYER:FACTOR with 0 <= FACTOR < 1, not '0:7'" ]] ||
  fail "a malformed test hook: exit code $rc, stderr $(cat err.txt)"
[[ -e badhook ]] && fail "a refused test hook left badhook behind"

# fpaudit run writes the outputs as .npy and prints the accuracy.
"$fpaudit" run "$model" --input "$images" --labels "$data/test_labels.npy" --samples 100 --output y.npy >out.txt 2>&1 ||
  fail "run: exit code $?"
grep -q '^accuracy ' out.txt || fail "run did not print the accuracy: $(cat out.txt)"
[[ -s y.npy ]] || fail "run did not write y.npy"

# Bad input: one line on stderr, exit 2, no output folder created.
npy nan.npy f4 2,1,28,28 0.5 nan 0.25
npy wrong.npy f4 2,5 1
npy labels.npy i8 2 3 10
expect_error "fpaudit: error: nan.npy: sample 0 element 1 is NaN" audit "$model" --input nan.npy --out bad1
expect_error "fpaudit: error: wrong.npy: an array [2, 5] of float32 does not hold samples [N, ...] for the model's input 'input' [?, 1, 28, 28]" \
  audit "$model" --input wrong.npy --out bad2
expect_error "fpaudit: error: labels.npy: label 10 of sample 1 is outside the model's 10 classes" \
  audit "$model" --input "$images" --labels labels.npy --samples 2 --out bad3
expect_error "fpaudit: error: unknown chain 'fp12' (known: fp32, fp16, fp16-acc32, bf16, bf16-acc32, fp8-e4m3-acc32, fp8-e5m2-acc32)" \
  audit "$model" --input "$images" --chains fp12 --out bad4
expect_error "fpaudit: error: mpfr precision must be 64..4096 bits, not 12" \
  audit "$model" --input "$images" --reference mpfr:12 --samples 1 --out bad5
expect_error "fpaudit: error: nowhere.onnx: cannot open: no such file" audit nowhere.onnx --input "$images" --out bad6
expect_error "fpaudit: error: /proc/fpaudit-out: cannot create the output folder: No such file or directory" \
  audit "$model" --input "$images" --samples 1 --format json --out /proc/fpaudit-out
expect_error "fpaudit: error: wrong.npy: input 'input': the whole array [2, 5] does not fit the model's input [?, 1, 28, 28] (no sample axis; choose with --sample-axis N|none)" \
  run "$model" --input wrong.npy --output y2.npy
for d in bad1 bad2 bad3 bad4 bad5 bad6; do [[ -e $d ]] && fail "a failed audit left $d behind"; done
[[ -e y2.npy ]] && fail "a failed run left y2.npy behind"

finish "all fpaudit audit and run checks passed"
