# The authors' L-conv protocol (issue 16) end to end on tiny sizes:
# gen-tasks rotated-scrambled --protocol dehmamy2021 (cubic rotation, centred
# pixels, /val), meta-train --protocol dehmamy2021 for every image model
# (Glorot, RMSprop, valid CNN, bottleneck FC), the per-epoch /val and /test
# accuracies, explicit options winning over the protocol, and bad values.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
E="$BIN/eval"

"$G" rotated-scrambled --help | grep -q -- "--protocol dehmamy2021" || fail "rotated-scrambled --help lacks the protocol"
"$M" cnn --help | grep -q -- "--padding" || fail "meta-train cnn --help lacks --padding"
expect_ok "$G" rotated-scrambled --size 8 --train 100 --test 20 --protocol dehmamy2021 --rotate --scramble --quiet -o "$WORK/d.h5"
$PY - "$WORK/d.h5" <<'PY' || fail "dehmamy2021 tasks file"
import h5py, sys, json
f = h5py.File(sys.argv[1], "r")
c = json.loads(f.attrs["config"])
assert c["interpolation"] == "cubic" and c["pixels"] == "centered" and c["val_fraction"] == 0.2, c
assert f["train/x"].shape == (1, 80, 64) and f["val/x"].shape == (1, 20, 64) and f["test/x"].shape == (1, 20, 64)
x = f["train/x"][()]
assert x.min() >= -0.75 and x.max() <= 0.75 and x.min() < 0, (x.min(), x.max())  # centred (cubic may overshoot a little)
assert f["truth/val_angle"].shape == (20,)
PY
# An explicit option wins over the protocol.
expect_ok "$G" rotated-scrambled --size 8 --train 100 --test 20 --protocol dehmamy2021 --pixels unit --val-fraction 0.1 --quiet -o "$WORK/u.h5"
$PY -c "
import h5py; f = h5py.File('$WORK/u.h5', 'r')
assert f['val/x'].shape == (1, 10, 64) and f['train/x'][()].min() >= 0
" || fail "explicit options did not win over the protocol"

for kind in lconv lconv-random cnn fc fc-shallow; do
  expect_ok "$M" "$kind" --protocol dehmamy2021 --epochs 2 --filters 4 --quiet --json "$WORK/d.h5" -o "$WORK/$kind.h5" >"$WORK/$kind.json"
  $PY - "$WORK/$kind.json" "$WORK/$kind.h5" "$kind" <<'PY' || fail "$kind: protocol run"
import h5py, json, sys
j = json.load(open(sys.argv[1])); kind = sys.argv[3]
assert j["val_examples"] == 20 and 1 <= j["best_epoch"] <= 2, j
assert 0 <= j["best_val_accuracy"] <= 1 and 0 <= j["test_accuracy_at_best_epoch"] <= 1
f = h5py.File(sys.argv[2], "r")
c = json.loads(f.attrs["config"])
assert c["model"]["init"] == "glorot" and c["training"]["optimizer"] == "rmsprop" and c["training"]["batch"] == 32
assert f["log/epoch_val_accuracy"].shape == (2,) and f["log/epoch_test_accuracy"].shape == (2,)
assert abs(f["log/epoch_val_accuracy"][j["best_epoch"] - 1] - j["best_val_accuracy"]) < 1e-12
if kind == "cnn":  # valid padding: the head sees 6x6 pixels x 4 filters
    assert c["model"]["padding"] == "valid" and f["params/dense.W"].shape == (144, 10)
if kind == "fc":   # Dense((8+1)*8 = 72) first
    assert c["model"]["bottleneck"] == 72 and f["params/bottleneck.W"].shape == (64, 72)
PY
done
# The last epoch's /test accuracy is what eval reports for the model file.
last=$($PY -c "import h5py; print('%.4f' % h5py.File('$WORK/cnn.h5', 'r')['log/epoch_test_accuracy'][-1])")
"$E" --tasks "$WORK/d.h5" "$WORK/cnn.h5" | grep -q "accuracy $last " || fail "eval disagrees with the logged test accuracy $last"
# Explicit options win over the model protocol too.
expect_ok "$M" cnn --protocol dehmamy2021 --padding same --optimizer adam --epochs 1 --filters 2 --quiet "$WORK/d.h5" -o "$WORK/c2.h5"
$PY -c "
import h5py, json; c = json.loads(h5py.File('$WORK/c2.h5', 'r').attrs['config'])
assert c['model']['padding'] == 'same' and c['training']['optimizer'] == 'adam' and c['model']['init'] == 'glorot'
" || fail "explicit --padding / --optimizer lost to the protocol"

expect_error 2 "protocol" "$M" lconv --protocol keras "$WORK/d.h5" -o "$WORK/out.h5"
expect_error 2 "padding valid is for a 1-layer cnn" "$M" cnn --padding valid --layers 2 "$WORK/d.h5" -o "$WORK/out.h5"
expect_error 2 "init must be he or glorot" "$M" cnn --init xavier "$WORK/d.h5" -o "$WORK/out.h5"
expect_error 2 "val-fraction" "$G" rotated-scrambled --size 8 --train 10 --test 5 --val-fraction 1.5 -o "$WORK/out.h5"
expect_error 2 "interpolation must be" "$G" rotated-scrambled --size 8 --train 10 --test 5 --interpolation nearest -o "$WORK/out.h5"
expect_error 2 "leaves no validation" "$G" rotated-scrambled --size 8 --train 3 --test 5 --val-fraction 0.2 -o "$WORK/out.h5"
[ ! -e "$WORK/out.h5" ] || fail "a failed command left output"
no_temp_files "$WORK"
echo "test_lconv_protocol: ok"
