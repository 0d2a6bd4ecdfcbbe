# Shared by the cli tests: run the fpaudit binary and compare what a user would see.
# Callers set $fpaudit, $expected and failures=0 before sourcing.

cli_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# finish MESSAGE: the script's end: exit 1 naming how many checks failed, or MESSAGE and exit 0.
finish() {
  if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "$1"
}
# fail MESSAGE: one failed check, said on stdout and counted.
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# npy FILE DTYPE SHAPE VALUE...: writes a small .npy array (mknpy.pl).
npy() { perl "$cli_dir/mknpy.pl" "$@"; }
# in_scratch_dir: continues in a fresh folder, removed when the script exits.
in_scratch_dir() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cd "$work" || exit 1
}

# expect_output NAME ARGS...: stdout must equal $expected/NAME, exit code 0, stderr empty.
expect_output() {
  local name=$1
  shift
  local out err rc
  err=$(mktemp)
  out=$("$fpaudit" "$@" 2>"$err")
  rc=$?
  if [[ $rc -ne 0 || -s $err ]]; then
    echo "FAIL $name: exit code $rc, stderr: $(cat "$err")"
    failures=$((failures + 1))
  elif ! diff <(printf '%s\n' "$out") "$expected/$name"; then
    echo "FAIL $name: output differs from $expected/$name (diff above)"
    failures=$((failures + 1))
  fi
  rm -f "$err"
}

# expect_error MESSAGE ARGS...: exit code 2, nothing on stdout, exactly MESSAGE on stderr.
expect_error() {
  local message=$1
  shift
  local out err rc
  err=$(mktemp)
  out=$("$fpaudit" "$@" 2>"$err")
  rc=$?
  if [[ $rc -ne 2 || -n $out || $(cat "$err") != "$message" ]]; then
    echo "FAIL fpaudit $*: exit code $rc (want 2), stdout '$out', stderr '$(cat "$err")'"
    echo "     want stderr '$message'"
    failures=$((failures + 1))
  fi
  rm -f "$err"
}

