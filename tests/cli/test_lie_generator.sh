# Generator discovery end to end (issue 16): gen-tasks generator-pairs ->
# meta-train lie-generator (every method) -> inspect-symmetry --truth / eval;
# the file's truth, determinism, and bad inputs.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
E="$BIN/eval"
I="$BIN/inspect-symmetry"

"$G" generator-pairs --help | grep -q "^e.g.: gen-tasks generator-pairs" || fail "generator-pairs --help has no example"
"$M" lie-generator --help | grep -q -- "--method" || fail "lie-generator --help lacks --method"
expect_ok "$G" generator-pairs --size 5 --amount 1 --pairs 100 --test-pairs 20 --quiet -o "$WORK/p.h5"
$PY - "$WORK/p.h5" <<'PY' || fail "generator-pairs file"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["kind"] == "generator-pairs" and f.attrs["dim"] == 25
assert f["train/x"].shape == (1, 100, 25) and f["test/y"].shape == (1, 20, 25)
L = f["truth/generator"][()]
assert L.shape == (25, 25) and np.abs(L + L.T).max() < 1e-9  # a rotation generator is skew
assert np.allclose(f["truth/train_amount"][()], 1.0)
PY
"$G" generator-pairs --size 5 --amount 1 --pairs 100 --test-pairs 20 --quiet -o "$WORK/p2.h5"
cmp -s "$WORK/p.h5" "$WORK/p2.h5" || fail "same seed, different files"
expect_ok "$G" generator-pairs --transform shift --size 9 --range=-0.5,0.5 --signal smooth --pairs 50 --quiet -o "$WORK/s.h5"

for m in lstsq spectral als gd; do
  extra=""
  [ "$m" = gd ] && extra="--steps 300"
  expect_ok "$M" lie-generator --method "$m" $extra --quiet "$WORK/p.h5" -o "$WORK/$m.h5"
  cos=$("$I" --json --truth "$WORK/p.h5" "$WORK/$m.h5" | $PY -c "import json,sys; print(json.load(sys.stdin)['abs_cosine'])")
  case $m in
    gd) $PY -c "import sys; sys.exit(0 if 0 <= $cos <= 1 else 1)" || fail "$m: |cos| $cos out of range" ;;
    *) $PY -c "import sys; sys.exit(0 if $cos > 0.99 else 1)" || fail "$m: |cos| $cos, expected > 0.99 at 1 degree" ;;
  esac
done
"$I" --truth "$WORK/p.h5" "$WORK/spectral.h5" | grep -q "^|cos|" || fail "inspect text has no |cos| line"
"$E" --tasks "$WORK/p.h5" "$WORK/spectral.h5" | grep -q "first-order residual" || fail "eval text"
"$I" --json --truth "$WORK/p.h5" --png "$WORK/g.png" "$WORK/spectral.h5" | $PY -c "
import json, sys; j = json.load(sys.stdin); b = j['figure']['panels']
assert [x['title'] for x in b][0] == 'learned L' and len(b) == 3 and b[0]['rows'] == 25, b
" || fail "inspect --png layout"
head -c 8 "$WORK/g.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "inspect --png did not write a PNG"
expect_ok "$M" lie-generator --quiet "$WORK/s.h5" -o "$WORK/shift.h5"
"$I" --json "$WORK/shift.h5" | $PY -c "import json,sys; j=json.load(sys.stdin); assert j['transform'] == 'shift' and 'abs_cosine' not in j" ||
  fail "inspect without --truth"

# Bad inputs: one line, exit 2, no output.
expect_error 2 "transform must be" "$G" generator-pairs --transform scale -o "$WORK/out.h5"
expect_error 2 "size must be in" "$G" generator-pairs --size 100 -o "$WORK/out.h5"
expect_error 2 "LO < HI" "$G" generator-pairs --range=2,1 -o "$WORK/out.h5"
expect_error 2 "method must be" "$M" lie-generator --method svd "$WORK/p.h5" -o "$WORK/out.h5"
expect_error 2 "keep-smallest must be in" "$M" lie-generator --keep-smallest 0 "$WORK/p.h5" -o "$WORK/out.h5"
"$G" locally-connected --tasks 10 --input-dim 8 --quiet -o "$WORK/lc.h5"
expect_error 2 "not transformation pairs" "$M" lie-generator "$WORK/lc.h5" -o "$WORK/out.h5"
expect_error 2 "has no /truth/generator" "$I" --truth "$WORK/lc.h5" "$WORK/lstsq.h5"
expect_error 2 "dimension" "$E" --tasks "$WORK/s.h5" "$WORK/lstsq.h5"
head -c 3000 "$WORK/p.h5" >"$WORK/cut.h5"
expect_error 2 "cut.h5" "$M" lie-generator "$WORK/cut.h5" -o "$WORK/out.h5"
[ ! -e "$WORK/out.h5" ] || fail "a failed command left output"
no_temp_files "$WORK"
echo "test_lie_generator: ok"
