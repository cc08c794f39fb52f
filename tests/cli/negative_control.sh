# A negative control: this test MUST fail (CTest expects it to), proving that
# the harness notices a failing check. It expects a wrong shape on purpose.
. "$TESTS/cli/lib.sh"
"$BIN/gen-tasks" locally-connected --tasks 4 --samples 2 --input-dim 8 --quiet -o "$WORK/a.h5"
h5dump -H -d /train/x "$WORK/a.h5" | grep -q "( 3, 2, 9 )" || fail "wrong shape, as intended"
