# Shared by the cli tests: run the fpaudit binary and compare what a user would see.
# Callers set $fpaudit, $expected and failures=0 before sourcing.

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

