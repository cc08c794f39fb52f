# L-conv end to end (issue 7): gen-tasks rotated-scrambled -> meta-train
# lconv|cnn|fc|fc-shallow|lconv-random -> eval / inspect-symmetry;
# IDX input, resume, SIGTERM, and bad inputs.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
E="$BIN/eval"
I="$BIN/inspect-symmetry"

"$G" rotated-scrambled --help | grep -q "^e.g.: gen-tasks rotated-scrambled" || fail "rotated-scrambled --help has no example"
expect_ok "$G" rotated-scrambled --size 8 --train 200 --test 50 --rotate --scramble --seed 2 --quiet -o "$WORK/rs.h5"
$PY - "$WORK/rs.h5" <<'PY' || fail "rotated-scrambled file contents"
import h5py, sys, json
f = h5py.File(sys.argv[1], "r")
assert f.attrs["symlearn_format"] == "tasks" and f.attrs["kind"] == "rotated-scrambled"
assert f["train/x"].shape == (1, 200, 64) and f["test/y"].shape == (1, 50)
p = list(f["truth/permutation"][()])
assert sorted(p) == list(range(64)) and p != list(range(64))
a = f["truth/train_angle"][()]
assert a.shape == (200,) and a.min() >= -90 and a.max() < 90
assert json.loads(f.attrs["config"])["seed"] == 2
PY
# The same seed gives the same file; labels do not depend on --rotate/--scramble.
"$G" rotated-scrambled --size 8 --train 200 --test 50 --rotate --scramble --seed 2 --quiet -o "$WORK/rs2.h5"
cmp -s "$WORK/rs.h5" "$WORK/rs2.h5" || fail "same seed, different files"
"$G" rotated-scrambled --size 8 --train 200 --test 50 --seed 2 --quiet -o "$WORK/plain.h5"
h5dump -d /train/y "$WORK/rs.h5" | tail -n +3 >"$WORK/y1"
h5dump -d /train/y "$WORK/plain.h5" | tail -n +3 >"$WORK/y2"
cmp -s "$WORK/y1" "$WORK/y2" || fail "labels changed by rotation/scrambling"

# IDX input (gzipped images, plain labels), 80/20 split of one pool.
$PY - "$WORK" <<'PY'
import gzip, struct, sys, random
random.seed(1)
n = 60
img = struct.pack(">IIII", 0x803, n, 6, 6) + bytes(random.randrange(256) for _ in range(n * 36))
gzip.open(sys.argv[1] + "/img.gz", "wb").write(img)
open(sys.argv[1] + "/lab", "wb").write(struct.pack(">II", 0x801, n) + bytes(i % 3 for i in range(n)))
open(sys.argv[1] + "/cut.gz", "wb").write(gzip.compress(img[:-5]))
PY
expect_ok "$G" rotated-scrambled --source "idx:$WORK/img.gz,$WORK/lab" --rotate --quiet -o "$WORK/idx.h5"
$PY -c "
import h5py; f = h5py.File('$WORK/idx.h5', 'r')
assert f['train/x'].shape == (1, 48, 36) and f['test/x'].shape == (1, 12, 36) and f.attrs['classes'] == 3
assert list(f['test/y'][0][:3]) == [0, 1, 2]
" || fail "idx source"

# Every model kind trains, evaluates, and records its parameter count.
for kind in lconv lconv-random cnn fc fc-shallow; do
  case $kind in cnn | fc) gen= ;; *) gen="--generators 2 --rank 2" ;; esac  # fc-shallow: the lconv it matches
  expect_ok "$M" "$kind" --epochs 1 --filters 4 $gen --quiet "$WORK/rs.h5" -o "$WORK/$kind.h5"
  "$E" --tasks "$WORK/rs.h5" "$WORK/$kind.h5" | grep -q "^$kind on .*rs.h5 /test: accuracy [0-9.]* (50 images" ||
    fail "eval $kind: $("$E" --tasks "$WORK/rs.h5" "$WORK/$kind.h5" 2>&1)"
done
$PY - "$WORK" <<'PY' || fail "model files"
import h5py, sys
w = sys.argv[1]
f = h5py.File(w + "/lconv.h5", "r")
assert f.attrs["model"] == "lconv"
assert f["params/layer1.U"].shape == (2, 64, 2) and f["params/layer1.V"].shape == (2, 2, 64)
assert f["params/layer1.U"].attrs["role"] == "symmetry" and f["params/dense.W"].attrs["role"] == "weights"
n = sum(d.size for d in f["params"].values())
assert f.attrs["parameters"] == n, (f.attrs["parameters"], n)
assert len(f["log/epoch_accuracy"]) == 1 and len(f["log/step_loss"]) == 7
r = h5py.File(w + "/lconv-random.h5", "r")
assert r["params/layer1.U"].attrs["trainable"] == 0
PY
"$E" --tasks "$WORK/rs.h5" --json "$WORK/lconv.h5" >"$WORK/eval.json"
$PY -c "
import json; r = json.load(open('$WORK/eval.json'))
c = r['confusion']; assert len(c) == 10 and sum(map(sum, c)) == 50
assert abs(r['accuracy'] - sum(c[i][i] for i in range(10)) / 50) < 1e-12 and r['parameters'] > 0
" || fail "eval --json"
# A model through a pipe gives the same result as through a file.
"$M" lconv --epochs 1 --filters 4 --generators 2 --rank 2 --quiet "$WORK/rs.h5" | "$E" --tasks "$WORK/rs.h5" --json - >"$WORK/pipe.json"
cmp -s "$WORK/eval.json" "$WORK/pipe.json" || fail "pipe and file differ"

# inspect-symmetry: generators in image coordinates, covariance share.
"$I" --json --truth "$WORK/rs.h5" "$WORK/lconv.h5" >"$WORK/inspect.json"
$PY -c "
import json; r = json.load(open('$WORK/inspect.json'))
l = r['layers'][0]; assert r['image_coordinates'] and r['scrambled_data'] and len(l['per_generator']) == 2
g = l['per_generator'][0]; assert 0 <= g['locality'] <= 1 and 0 <= g['covariance_skew_share'] <= 1
assert l['closure']['span_rank'] == 2
" || fail "inspect-symmetry json"
"$I" "$WORK/lconv.h5" | grep -q "^layer 1: 2 generators" || fail "inspect-symmetry text"
# --png: each generator's centre-pixel row as an 8x8 image (2 generators per layer here).
"$I" --json --truth "$WORK/rs.h5" --png "$WORK/lconv.png" "$WORK/lconv.h5" | $PY -c "
import json, sys; p = json.load(sys.stdin)['figure']['panels']
assert len(p) >= 2 and p[0]['title'] == 'layer 1 L1' and p[0]['rows'] == 8 and p[0]['cols'] == 8, p
" || fail "inspect-symmetry --png on lconv"
head -c 8 "$WORK/lconv.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "lconv --png is not a PNG"

# The thread count changes nothing (the mini-batch slices are fixed).
expect_ok "$M" lconv --epochs 1 --filters 4 --generators 2 --rank 2 --threads 1 --quiet "$WORK/rs.h5" -o "$WORK/t1.h5"
expect_ok "$M" lconv --epochs 1 --filters 4 --generators 2 --rank 2 --threads 2 --quiet "$WORK/rs.h5" -o "$WORK/t2.h5"
cmp -s "$WORK/t1.h5" "$WORK/t2.h5" || fail "lconv: --threads 1 and 2 differ"

# Resume: 1 epoch then 1 more = 2 epochs at once; SIGTERM writes a checkpoint (exit 130).
TR="--filters 4 --quiet"
expect_ok "$M" cnn $TR --epochs 2 "$WORK/rs.h5" -o "$WORK/two.h5"
expect_ok "$M" cnn $TR --epochs 1 "$WORK/rs.h5" -o "$WORK/one.h5"
expect_ok "$M" --resume "$WORK/one.h5" --epochs 2 --quiet "$WORK/rs.h5" -o "$WORK/resumed.h5"
h5dump -d /params/dense.W "$WORK/two.h5" | tail -n +2 >"$WORK/w1"
h5dump -d /params/dense.W "$WORK/resumed.h5" | tail -n +2 >"$WORK/w2"
cmp -s "$WORK/w1" "$WORK/w2" || fail "resumed run differs from the uninterrupted one"
"$G" rotated-scrambled --size 16 --train 3000 --test 10 --seed 3 --quiet -o "$WORK/big.h5"
"$M" lconv --epochs 3 --checkpoint-batches 5 --quiet "$WORK/big.h5" -o "$WORK/sig.h5" 2>"$WORK/sig.err" &
pid=$!
i=0
while [ ! -f "$WORK/sig.h5.ckpt" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
[ "$rc" -eq 130 ] || fail "SIGTERM: exit $rc, expected 130: $(cat "$WORK/sig.err")"
grep -q "checkpoint written to .*sig.h5.ckpt" "$WORK/sig.err" || fail "SIGTERM message: $(cat "$WORK/sig.err")"
[ ! -e "$WORK/sig.h5" ] || fail "interrupted run wrote its output"
"$E" --tasks "$WORK/big.h5" "$WORK/sig.h5.ckpt" | grep -q "^lconv on" || fail "checkpoint is not a usable model"
no_temp_files "$WORK"

# Bad inputs: one line, exit 2, no output.
echo "not hdf5" >"$WORK/junk.h5"
expect_error 2 "junk.h5" "$M" lconv "$WORK/junk.h5" -o "$WORK/out.h5"
expect_error 2 "missing.h5" "$M" lconv "$WORK/missing.h5" -o "$WORK/out.h5"
"$G" locally-connected --tasks 20 --input-dim 8 --quiet -o "$WORK/lc.h5"
expect_error 2 "not image classification data" "$M" lconv "$WORK/lc.h5" -o "$WORK/out.h5"
expect_error 2 "layers must be 1 or 2" "$M" lconv --layers 3 "$WORK/rs.h5" -o "$WORK/out.h5"
expect_error 2 "epochs" "$M" cnn --epochs 0 "$WORK/rs.h5" -o "$WORK/out.h5"
expect_error 2 "optimizer" "$M" cnn --optimizer sgdx "$WORK/rs.h5" -o "$WORK/out.h5"
[ ! -e "$WORK/out.h5" ] || fail "a failed meta-train left output"
expect_error 2 "cut.gz" "$G" rotated-scrambled --source "idx:$WORK/cut.gz,$WORK/lab" -o "$WORK/out.h5"
expect_error 2 "source must be" "$G" rotated-scrambled --source mnist -o "$WORK/out.h5"
expect_error 2 "fewer than --train" "$G" rotated-scrambled --source "idx:$WORK/img.gz,$WORK/lab" --train 50 --test 20 -o "$WORK/out.h5"
[ ! -e "$WORK/out.h5" ] || fail "a failed gen-tasks left output"
expect_error 2 "idx.h5" "$E" --tasks "$WORK/idx.h5" "$WORK/lconv.h5"
expect_error 2 "not image classification data" "$E" --tasks "$WORK/lc.h5" "$WORK/lconv.h5"
no_temp_files "$WORK"
echo "test_lconv: ok"
