# Files written by gen-tasks are read by h5py and h5dump with no symlearn code,
# and satisfy the data's definition (y = W x, vec(W) = U_true vec(B)).
. "$TESTS/cli/lib.sh"
$PY -c "import h5py" 2>/dev/null || fail "python3-h5py is not installed (cmake/install-deps.sh installs it)"
for spec in "1 3 20" "2 3 16" "5 5 30" "1 1 4"; do
  set -- $spec
  "$BIN/gen-tasks" locally-connected --rank "$1" --kernel "$2" --input-dim "$3" --tasks 30 --samples 7 \
    --seed 5 --quiet -o "$WORK/r$1k$2.h5"
  $PY "$TESTS/cli/check_locally_connected.py" "$WORK/r$1k$2.h5" "$1" "$2" "$3" || fail "rank $1 kernel $2"
done
# A pipe carries the file as well.
"$BIN/gen-tasks" locally-connected --rank 2 --input-dim 10 --tasks 10 --samples 3 --quiet | cat >"$WORK/pipe.h5"
$PY "$TESTS/cli/check_locally_connected.py" "$WORK/pipe.h5" 2 3 10 || fail "piped file"
h5dump -d /truth/connectivity "$WORK/pipe.h5" | grep -q "DATASPACE  SIMPLE { ( 8, 2 )" || fail "h5dump connectivity shape"
echo "ok"
