# Shared helpers for the end-to-end tests: each test script sources this.
# BIN (the built tools) and TESTS (this directory) come from CTest.
set -eu
: "${BIN:?BIN must point at the built tools (build/bin)}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/symlearn-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PY=/usr/bin/python3  # Debian's python3, where python3-h5py is installed

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_error CODE PATTERN CMD...: CMD exits with CODE, prints nothing on
# stdout and exactly one line on stderr, which contains PATTERN.
expect_error() {
  code=$1
  pattern=$2
  shift 2
  set +e
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  rc=$?
  set -e
  [ "$rc" -eq "$code" ] || fail "$*: exit status $rc, expected $code; stderr: $(cat "$WORK/stderr")"
  [ ! -s "$WORK/stdout" ] || fail "$*: wrote to stdout on failure"
  [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$WORK/stderr")"
  grep -q -- "$pattern" "$WORK/stderr" || fail "$*: stderr '$(cat "$WORK/stderr")' lacks '$pattern'"
  # ERROR_LOG: collect every command and its error line (for auditing messages).
  if [ -n "${ERROR_LOG:-}" ]; then printf '%s\t%s\n' "$*" "$(cat "$WORK/stderr")" >>"$ERROR_LOG"; fi
}

# expect_ok CMD...: CMD exits with 0.
expect_ok() {
  "$@" || fail "$*: exit status $?"
}

# no_temp_files DIR: no leftover temporary outputs in DIR.
no_temp_files() {
  if ls -A "$1" | grep -q '\.tmp\.'; then fail "temporary files left in $1: $(ls -A "$1")"; fi
}
