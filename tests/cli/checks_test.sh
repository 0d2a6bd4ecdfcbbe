#!/usr/bin/env bash
# What a user meets first: every argument checked before any work (exit 2, one line, nothing
# written), usage errors as one line with the closest spelling, the report files of one run
# written as a set (no stale files of another run, a user's files never touched), and --fail-on
# gates with thresholds (exit 1, one line per failed gate and chain).
#   checks_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR
set -u
fpaudit=$1
data=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failures=0
source "$here/common.sh"
in_scratch_dir

model=$data/mlp.onnx
images=$data/test_images.npy
labels=$data/test_labels.npy
few=(--input "$images" --samples 3 --no-progress)
npy empty.npy f4 0,1,28,28 0
npy nan.npy f4 2,1,28,28 0.5 nan
npy big.npy f4 2,1,28,28 5000
npy big_labels.npy i8 2 8

# --- Usage errors: one line, exit 2, the closest spelling ---
expect_error "fpaudit: error: unknown subcommand 'audt'; did you mean 'audit'? (subcommands: formats, run, audit, inspect, report, table, kernels, bounds, train-step, convert, advise, tolerances)" audt
expect_error "fpaudit: error: unknown option '--sampels' for 'fpaudit audit'; did you mean '--samples'?" audit "$model" --sampels 3
expect_error "fpaudit: error: unknown option '--chian' for 'fpaudit run'; did you mean '--chain'?" run "$model" --chian fp16
expect_error "fpaudit: error: unknown option '--frobnicate' for 'fpaudit inspect'" inspect "$model" --frobnicate
expect_error "fpaudit: error: a subcommand is required: formats, run, audit, inspect, report, table, kernels, bounds, train-step, convert, advise, tolerances (fpaudit --help says what each does)"
expect_error "fpaudit: error: model is required" bounds
expect_error "fpaudit: error: --k: Value 0 not in range 1 to 1073741824" kernels --k 0
# CLI11's own checks, in its wording: one line all the same.
for args in "table x.json --format html" "formats --csv=maybe" "report x.json --format pdf"; do
  # shellcheck disable=SC2086
  err=$("$fpaudit" $args 2>&1 >/dev/null)
  rc=$?
  [[ $rc -eq 2 && $(wc -l <<<"$err") -eq 1 && $err == "fpaudit: error: "* ]] || fail "fpaudit $args: exit $rc, stderr '$err'"
done
out=$("$fpaudit" --help) && [[ $out == *"Usage:"* ]] || fail "fpaudit --help: exit $? or no usage"
out=$("$fpaudit" audit --help) && [[ $out == *"--fail-on"* ]] || fail "fpaudit audit --help: exit $? or no --fail-on"

# --- Every argument checked before any work ---
for cmd in "audit --out out" "bounds --json out.json"; do
  for opt in --samples --threads; do
    for v in -5 0; do
      # shellcheck disable=SC2086
      expect_error "fpaudit: error: $opt: expected a whole number above zero, not '$v'" $cmd "$model" --input "$images" $opt $v
    done
  done
done
expect_error "fpaudit: error: --samples: expected a whole number above zero, not '0'" run "$model" --input "$images" --samples 0 --output y.npy
expect_error "fpaudit: error: --threads: expected a whole number above zero, not '0'" run "$model" --input "$images" --threads 0 --output y.npy
expect_error "fpaudit: error: --samples: expected a whole number above zero, not 'all'" audit "$model" --samples all
expect_error "fpaudit: error: --apriori excludes --no-apriori" audit "$model" "${few[@]}" --apriori --no-apriori
expect_error "fpaudit: error: --progress excludes --no-progress" audit "$model" "${few[@]}" --progress --no-progress
for cmd in "audit --out out" "bounds --json out.json"; do
  # shellcheck disable=SC2086
  expect_error "fpaudit: error: empty.npy: holds no samples (an array [0, 1, 28, 28])" $cmd "$model" --input empty.npy
done
expect_error "fpaudit: error: empty.npy: input 'input': the array [0, 1, 28, 28] holds no samples (axis 0 is empty)" run "$model" --input empty.npy --output y.npy
# The output is checked before the run: nan.npy would fail during the audit, the folder first.
expect_error "fpaudit: error: /proc/fpaudit-x: cannot create the output folder: No such file or directory" \
  audit "$model" --input nan.npy --out /proc/fpaudit-x
expect_error "fpaudit: error: /proc/fpaudit-x.json: cannot write the output file: No such file or directory" \
  bounds "$model" --input nan.npy --json /proc/fpaudit-x.json
expect_error "fpaudit: error: /proc/fpaudit-y.npy: cannot write the output file: No such file or directory" \
  run "$model" --input nan.npy --output /proc/fpaudit-y.npy
expect_error "fpaudit: error: /proc/fpaudit-t.md: cannot write the output file: No such file or directory" \
  table missing.json --out /proc/fpaudit-t.md
# A failed audit leaves no folder behind, not even the parents --out named.
expect_error "fpaudit: error: nan.npy: sample 0 element 1 is NaN" audit "$model" --input nan.npy --out a/b/run
[[ -e a || -e out || -e out.json || -e y.npy ]] && fail "a refused command left files behind: $(ls)"

# --- --fail-on gates: parsed before the audit ---
expect_error "fpaudit: error: --fail-on: unknown gate 'flop' (known: overflow, nan, flip, flip-fp32, lemma, uncertified, violation, flip-rate, accuracy-drop, tolerance, tolerance-unproved, pixel-flips; e.g. flip-rate>0.1%,accuracy-drop>0.2pp,nan)" \
  audit "$model" "${few[@]}" --fail-on nan,flop
expect_error "fpaudit: error: --fail-on: 'flip-rate>0.1': expected 'flip-rate>N%' with N a non-negative number" \
  audit "$model" "${few[@]}" --fail-on 'flip-rate>0.1'
expect_error "fpaudit: error: --fail-on: 'overflow>x': expected 'overflow>N' with N a non-negative number of occurrences" \
  audit "$model" "${few[@]}" --fail-on 'overflow>x'
expect_error "fpaudit: error: --fail-on accuracy-drop needs --labels" audit "$model" "${few[@]}" --fail-on 'accuracy-drop>1pp'
# Inputs of 5000 overflow binary16: fp16 and fp16-acc32 flip both samples (labels = the exact class).
"$fpaudit" audit "$model" --input big.npy --labels big_labels.npy --format json --out big --no-progress \
  --fail-on 'flip-rate>0.1%,accuracy-drop>0.2pp,violation,overflow,nan,overflow>100' >out.txt 2>err.txt
rc=$?
want="fpaudit: --fail-on: fp16: flip-rate 100% > 0.1%
fpaudit: --fail-on: fp16-acc32: flip-rate 100% > 0.1%
fpaudit: --fail-on: fp16: accuracy-drop 100pp > 0.2pp
fpaudit: --fail-on: fp16-acc32: accuracy-drop 100pp > 0.2pp
fpaudit: --fail-on: fp16: overflow 414 > 0
fpaudit: --fail-on: fp16-acc32: overflow 44 > 0
fpaudit: --fail-on: fp16: nan 20 > 0
fpaudit: --fail-on: fp16: overflow 414 > 100"
[[ $rc -eq 1 && $(cat err.txt) == "$want" ]] || fail "--fail-on gates: exit $rc (want 1), stderr: $(cat err.txt)"
[[ $(cat out.txt) == "wrote big/: audit.json" ]] || fail "--fail-on run: stdout '$(cat out.txt)'"
# The shipped images pass every gate of a strict CI line (no bound is ever violated).
"$fpaudit" audit "$model" "${few[@]}" --labels "$labels" --format table \
  --fail-on 'flip-rate>50%,accuracy-drop>50pp,violation,lemma,overflow,nan' >/dev/null 2>err.txt ||
  fail "--fail-on on the shipped images: exit $?, $(cat err.txt)"

# --- The report files of one run, as a set ---
"$fpaudit" audit "$model" "${few[@]}" --format json,csv,html --out set >out.txt 2>err.txt || fail "audit into set: exit $?"
[[ $(cat out.txt) == "wrote set/: audit.json, layers.csv, samples.csv, audit.html" && ! -s err.txt ]] ||
  fail "audit into set: stdout '$(cat out.txt)', stderr '$(cat err.txt)'"
echo "my notes" >set/notes.txt
"$fpaudit" audit "$model" "${few[@]}" --format json --out set/ >out.txt 2>err.txt || fail "second audit into set: exit $?"
[[ $(cat out.txt) == "wrote set/: audit.json" ]] || fail "second audit: stdout '$(cat out.txt)'"
[[ $(cd set && ls -A | tr '\n' ' ') == ".fpaudit-set audit.json notes.txt " ]] ||
  fail "second audit: the folder holds $(cd set && ls -A | tr '\n' ' ') (stale files of the first run, or notes.txt lost)"
[[ $(cat set/notes.txt) == "my notes" ]] || fail "a user's file in the output folder was changed"
# Renderings of the folder's own audit join its set; a file fpaudit did not write is never replaced.
"$fpaudit" report set/audit.json --format md --out set >out.txt 2>err.txt || fail "report into set: exit $?, $(cat err.txt)"
[[ $(cat out.txt) == "wrote set/: audit.md" ]] || fail "report into set: stdout '$(cat out.txt)'"
[[ $(cd set && ls -A | tr '\n' ' ') == ".fpaudit-set audit.json audit.md notes.txt " ]] ||
  fail "report into its audit's folder: the folder holds $(cd set && ls -A | tr '\n' ' ')"
echo "mine" >set/audit.tex
expect_error "fpaudit: error: set/audit.tex: not written by fpaudit; will not replace it" report set/audit.json --format tex --out set
[[ $(cat set/audit.tex) == mine ]] || fail "a user's audit.tex was replaced"
mkdir user && echo "x" >user/data.txt
expect_error "fpaudit: error: user: not empty and not written by fpaudit (no .fpaudit-set); give a new or empty output folder" \
  audit "$model" "${few[@]}" --format json --out user
[[ $(ls -A user) == data.txt ]] || fail "a refused audit touched user/: $(ls -A user)"
echo "x" >afile
expect_error "fpaudit: error: afile: exists and is not a folder" audit "$model" "${few[@]}" --format json --out afile
# A folder from before manifests (only fpaudit's file names) is replaced as a set.
mkdir old && echo "{}" >old/audit.json && echo "x" >old/audit.html
"$fpaudit" audit "$model" "${few[@]}" --format csv --out old >/dev/null 2>err.txt || fail "audit into old/: exit $?, $(cat err.txt)"
[[ $(cd old && ls -A | tr '\n' ' ') == ".fpaudit-set layers.csv samples.csv " ]] || fail "old/ holds $(cd old && ls -A | tr '\n' ' ')"
# ... and renderings of its own audit.json join it (keeping the other files of that audit).
mkdir older && cp set/audit.json older/ && echo "x" >older/audit.html
"$fpaudit" report older/audit.json --format md --out older >/dev/null 2>err.txt || fail "report into older/: exit $?, $(cat err.txt)"
[[ $(cd older && ls -A | tr '\n' ' ') == ".fpaudit-set audit.html audit.json audit.md " ]] || fail "older/ holds $(cd older && ls -A | tr '\n' ' ')"
# bounds --json and table --out say what they wrote.
"$fpaudit" bounds "$model" --input "$images" --samples 3 --chains fp16 --json b.json >out.txt 2>err.txt || fail "bounds: exit $?"
[[ $(tail -n 1 out.txt) == "wrote b.json" ]] || fail "bounds --json: last line '$(tail -n 1 out.txt)'"
[[ $("$fpaudit" table set/audit.json --out t.md) == "wrote t.md" ]] || fail "table --out did not say what it wrote"
ls -A | grep -q fpaudit- && fail "staging folders left behind: $(ls -A | grep fpaudit-)"

finish "all argument, output-folder and --fail-on checks passed"
