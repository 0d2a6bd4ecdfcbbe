#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a copy of its committed seed corpus, so new
# inputs go to the build folder and the committed corpus stays as it is. Any crash, leak,
# timeout or sanitizer report makes libFuzzer exit non-zero, and the test fails; the input that
# caused it is left in WORK_DIR as crash-*, leak-*, timeout-* or oom-*.
#   run_fuzzer.sh FUZZER SEED_CORPUS WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/" ${FUZZ_DICT:+-dict="$FUZZ_DICT"} "$work/corpus" "$seeds"
