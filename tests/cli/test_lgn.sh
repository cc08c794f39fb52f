# Linear Group Networks end to end (issue 17): gen-tasks lgn-patches ->
# meta-train lgn-action -> eval / inspect-symmetry --truth; gen-tasks
# rotated-scrambled -> meta-train lgn | lgn-free | lgn-recon -> eval /
# inspect-symmetry --png; an interrupted run resumed; bad inputs.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
E="$BIN/eval"
I="$BIN/inspect-symmetry"

for m in lgn lgn-free lgn-recon lgn-action; do
  "$M" "$m" --help | grep -q "^e.g.: " || fail "meta-train $m --help has no e.g. line"
done
"$M" lgn --help | grep -q -- "--inverse-loss" || fail "lgn --help lacks --inverse-loss"

# The sterile fit: unconstrained on white noise recovers T; projected, the direction and the permutation.
expect_ok "$G" lgn-patches --transform rot90 --train 2000 --test 300 --quiet -o "$WORK/p.h5"
expect_ok "$M" lgn-action --a-projection none --epochs 60 --quiet "$WORK/p.h5" -o "$WORK/free.h5"
"$E" --json --tasks "$WORK/p.h5" "$WORK/free.h5" | $PY -c "
import json, sys; j = json.load(sys.stdin)
assert j['relative_error'] < 0.01 and j['argmax_rows'] == 36 == j['argmax_rows_of'], j
" || fail "lgn-action without projection does not recover rot90"
expect_ok "$M" lgn-action --optimizer sgd --lr 1 --epochs 20 --quiet "$WORK/p.h5" -o "$WORK/proj.h5"
"$I" --json --truth "$WORK/p.h5" --png "$WORK/a.png" "$WORK/proj.h5" | $PY -c "
import json, sys; j = json.load(sys.stdin)
assert j['cos_truth'] > 0.99 and j['argmax_rows'] == 36, j
assert j['best_template'] == 'rot90', j['best_template']
assert [p['title'] for p in j['figure']['panels']] == ['learned A', 'truth T'], j['figure']
" || fail "projected lgn-action: cos, argmax or template"
head -c 8 "$WORK/a.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "inspect --png did not write a PNG"
"$I" --truth "$WORK/p.h5" "$WORK/proj.h5" | grep -q "^cos(A, T)" || fail "inspect text lacks cos(A, T)"

# The unfolded networks on tiny glyph images.
expect_ok "$G" rotated-scrambled --size 8 --train 96 --test 40 --quiet -o "$WORK/img.h5"
TINY="--layers 2 --kernel 3 --epochs 2 --batch 32"
expect_ok "$M" lgn $TINY --groups 2 --order 3 --quiet "$WORK/img.h5" -o "$WORK/lgn.h5"
expect_ok "$M" lgn-free $TINY --filters 6 --quiet "$WORK/img.h5" -o "$WORK/lgnfree.h5"
expect_ok "$M" lgn-recon $TINY --groups 2 --order 2 --no-whiten --quiet "$WORK/img.h5" -o "$WORK/recon.h5"
"$E" --json --tasks "$WORK/img.h5" "$WORK/lgn.h5" | $PY -c "
import json, sys; j = json.load(sys.stdin)
assert j['examples'] == 40 and 0 <= j['accuracy'] <= 1 and j['median_inverse_residual'] > 0, j
" || fail "eval of lgn"
"$E" --json --tasks "$WORK/img.h5" "$WORK/recon.h5" | $PY -c "
import json, sys; j = json.load(sys.stdin); assert j['mse'] > 0 and 'accuracy' not in j, j
" || fail "eval of lgn-recon"
$PY - "$WORK/lgn.h5" <<'PY' || fail "lgn model file layout"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["model"] == "lgn"
a = f["params/layer0_action_0"]
assert a.shape == (9, 9) and a.attrs["role"] == "symmetry" and a.attrs["vec"] == "row-major"
assert abs(np.linalg.norm(a[()]) - 1) < 1e-9  # the unit-norm projection
assert f["params/layer1_basis"].shape == (9, 2) and "layer1_bn_gamma" not in f["params"]  # no batch norm after the last layer
assert len(f["log/epoch_loss"]) == 2
import json
assert json.loads(f.attrs["config"])["whitening"]["applied"] and f["params/whiten_zca"].shape == (64, 64)
r = h5py.File(sys.argv[1].replace("lgn.h5", "recon.h5"), "r")
assert not json.loads(r.attrs["config"])["whitening"]["applied"] and "whiten_zca" not in r["params"]  # --no-whiten
assert r["params/decoder"].shape == (9, 4) and "fc_weight" not in r["params"]
PY
"$I" --json --png "$WORK/lgn.png" "$WORK/lgn.h5" | $PY -c "
import json, sys; j = json.load(sys.stdin)
assert j['actions_total'] == 4 and len(j['actions']) == 4, j['actions_total']
a = j['actions'][0]
assert set(a['scores']) >= {'skew_share', 'conv2d_share', 'block_participation', 'closure'} and len(a['orbit_norms']) == 3
assert 0 <= j['structured_share'] <= 1
assert len(j['figure']['panels']) == 8  # per layer: 2 actions and 2 filter banks
" || fail "inspect of lgn"
"$I" "$WORK/lgnfree.h5" | grep -q "no actions" || fail "inspect of lgn-free"

# Resume: a run interrupted at step 5 (of 2 epochs x 3 batches) continues to the same result as an uninterrupted one.
set +e
env SYMLEARN_SIGNAL_AT=step:5 "$M" lgn $TINY --groups 2 --order 2 --quiet "$WORK/img.h5" -o "$WORK/resumed.h5" 2>"$WORK/sig.err"
rc=$?
set -e
[ "$rc" -eq 130 ] || fail "an interrupted lgn run exited $rc: $(cat "$WORK/sig.err")"
grep -q "checkpoint written to $WORK/resumed.h5.ckpt" "$WORK/sig.err" || fail "no checkpoint line: $(cat "$WORK/sig.err")"
[ ! -e "$WORK/resumed.h5" ] || fail "an interrupted run wrote its final model"
expect_ok "$M" --resume "$WORK/resumed.h5.ckpt" --quiet -o "$WORK/resumed.h5"
expect_ok "$M" lgn $TINY --groups 2 --order 2 --quiet "$WORK/img.h5" -o "$WORK/whole.h5"
$PY - "$WORK/resumed.h5" "$WORK/whole.h5" <<'PY' || fail "a resumed run differs from an uninterrupted one"
import h5py, sys, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:])
for k in b["params"]:
    assert np.array_equal(a["params"][k][()], b["params"][k][()]), k
assert np.array_equal(a["log/step_loss"][()], b["log/step_loss"][()]) and len(b["log/step_loss"]) == 6
PY
expect_error 2 "fewer than" "$M" --resume "$WORK/whole.h5" --epochs 1 --quiet -o "$WORK/out.h5"

# Bad inputs: one line, exit 2, no output.
expect_error 2 "a-projection must be" "$M" lgn-action --a-projection l2 "$WORK/p.h5" -o "$WORK/out.h5"
expect_error 2 "optimizer must be" "$M" lgn-action --optimizer lbfgs "$WORK/p.h5" -o "$WORK/out.h5"
expect_error 2 "inverse-loss must be" "$M" lgn --inverse-loss det "$WORK/img.h5" -o "$WORK/out.h5"
expect_error 2 "does not fit" "$M" lgn --kernel 12 "$WORK/img.h5" -o "$WORK/out.h5"
expect_error 2 "not image classification data" "$M" lgn "$WORK/p.h5" -o "$WORK/out.h5"
expect_error 2 "lgn-patches" "$M" lgn-action "$WORK/img.h5" -o "$WORK/out.h5"
expect_error 2 "truth" "$I" --truth "$WORK/p.h5" "$WORK/lgn.h5"
head -c 3000 "$WORK/p.h5" >"$WORK/pcut.h5"
expect_error 2 "pcut.h5" "$M" lgn-action "$WORK/pcut.h5" -o "$WORK/out.h5"
cp "$WORK/p.h5" "$WORK/pnan.h5"
$PY -c "
import h5py; f = h5py.File('$WORK/pnan.h5', 'r+'); d = f['train/x']; v = d[()]; v[0, 3, 5] = float('nan'); d[...] = v"
expect_error 2 "pnan.h5" "$M" lgn-action "$WORK/pnan.h5" -o "$WORK/out.h5"
head -c 4000 "$WORK/lgn.h5" >"$WORK/cut.h5"
expect_error 2 "cut.h5" "$E" --tasks "$WORK/img.h5" "$WORK/cut.h5"
# A model file whose action holds NaN is refused whole.
cp "$WORK/lgn.h5" "$WORK/nan.h5"
$PY -c "
import h5py, sys; f = h5py.File('$WORK/nan.h5', 'r+'); d = f['params/layer0_action_1']; v = d[()]; v[0, 0] = float('nan'); d[...] = v"
expect_error 2 "NaN" "$I" "$WORK/nan.h5"
[ ! -e "$WORK/out.h5" ] || fail "a failed command left output"
no_temp_files "$WORK"
