#!/usr/bin/env bash
# fpaudit audit across MPI ranks (label mpi), on the shipped MLP: the audit JSON (timing aside)
# and the CSVs are the same bits with 1, 2 and 3 ranks and 1 or 2 threads as without mpirun; a
# rank that fails, before the samples or in the middle of them, ends every rank with exit code 2,
# one error line, and no output folder.
#   mpi_test.sh FPAUDIT_BINARY SHIPPED_DATA_DIR MPIRUN BUILT_WITH_MPI(ON|OFF)
# Exit 77 (ctest: skipped) for a build without MPI; a build with MPI but no mpirun fails.
set -u
fpaudit=$(realpath "$1")
data=$(realpath "$2")
mpirun=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $4 != ON ]]; then
  echo "SKIP: fpaudit was built without MPI (-DFPAUDIT_MPI=OFF, or no libopenmpi-dev found)"
  exit 77
fi
if [[ -z $mpirun || ! -x $mpirun ]]; then
  echo "FAIL: built with MPI but no mpirun found ('$mpirun'): apt-get install openmpi-bin"
  exit 1
fi
failures=0
source "$here/common.sh"
in_scratch_dir

# 40 samples: 5 chunks of 8, shared 3+2 by 2 ranks and 2+2+1 by 3.
args=(audit "$data/mlp.onnx" --input "$data/test_images.npy" --labels "$data/test_labels.npy" --samples 40
      --format json,csv --no-progress)
# As root in a container: mpirun refuses root without --allow-run-as-root, and this machine may
# have fewer cores than ranks.
mpi=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none)

"$fpaudit" "${args[@]}" --threads 1 --out plain >/dev/null 2>err.txt || fail "plain audit: exit $?: $(cat err.txt)"
for run in "1 1" "2 1" "3 1" "2 2" "3 2"; do
  read -r np threads <<<"$run"
  out=np$np-t$threads
  "${mpi[@]}" -np "$np" "$fpaudit" "${args[@]}" --threads "$threads" --out "$out" >stdout.txt 2>err.txt ||
    { fail "$np ranks x $threads threads: exit $?: $(cat err.txt)"; continue; }
  [[ -s err.txt ]] && fail "$np ranks x $threads threads wrote to stderr: $(cat err.txt)"
  python3 "$here/audit_json_same.py" plain/audit.json "$out/audit.json" || fail "$np ranks x $threads threads: audit.json differs"
  for f in layers.csv samples.csv; do cmp -s plain/$f "$out/$f" || fail "$np ranks x $threads threads: $f differs"; done
  grep -q "\"ranks\": $np" "$out/audit.json" || fail "$np ranks x $threads threads: timing.ranks is not $np"
  # Only rank 0 prints: the table once.
  [[ $(grep -c '^wrote ' stdout.txt) -eq 1 ]] || fail "$np ranks x $threads threads: 'wrote' printed $(grep -c '^wrote ' stdout.txt) times"
done

# expect_rank_failure NAME NP ENV MESSAGE: every rank exits 2 (so mpirun does), one error line,
# which is MESSAGE, and no output folder.
expect_rank_failure() {
  local name=$1 np=$2 env=$3 message=$4 rc
  env "$env" "${mpi[@]}" -np "$np" "$fpaudit" "${args[@]}" --threads 1 --out "$name" >stdout.txt 2>err.txt
  rc=$?
  [[ $rc -eq 2 ]] || fail "$name: mpirun exit code $rc, want 2"
  [[ $(grep -c '^fpaudit: error:' err.txt) -eq 1 ]] || fail "$name: want one error line, got: $(cat err.txt)"
  grep -qxF "fpaudit: error: $message" err.txt || fail "$name: want 'fpaudit: error: $message', got: $(cat err.txt)"
  [[ -e $name ]] && fail "$name: output folder $name written"
  ls -a | grep -q fpaudit-new && fail "$name: staging folder left behind"
}
# Chunk 1 belongs to rank 1, chunk 2 to rank 2 of 3, chunk 0 to rank 0.
expect_rank_failure mid1 2 FPAUDIT_TEST_FAIL_CHUNK=1 "rank 1: test hook FPAUDIT_TEST_FAIL_CHUNK: chunk 1 failed"
expect_rank_failure mid2 3 FPAUDIT_TEST_FAIL_CHUNK=2 "rank 2: test hook FPAUDIT_TEST_FAIL_CHUNK: chunk 2 failed"
expect_rank_failure mid0 3 FPAUDIT_TEST_FAIL_CHUNK=0 "test hook FPAUDIT_TEST_FAIL_CHUNK: chunk 0 failed"
# A rank that cannot read the input (rank 1; rank 0) before any chunk.
expect_rank_failure read1 2 FPAUDIT_TEST_FAIL_RANK=1 \
  "rank 1: $data/test_images.npy: test hook FPAUDIT_TEST_FAIL_RANK: this rank cannot read the input"
expect_rank_failure read0 3 FPAUDIT_TEST_FAIL_RANK=0 "$data/test_images.npy: test hook FPAUDIT_TEST_FAIL_RANK: this rank cannot read the input"

[[ $failures -eq 0 ]] || { echo "$failures failed"; exit 1; }
echo "mpi: 1, 2 and 3 ranks give the same audit; failing ranks end the run cleanly"
