# gen-tasks lgn-patches end to end (the sterile experiments of Theodosis,
# Helwani, Ba 2023, section 5.2): the file's layout and truth (y = T x) for
# noise, glyph, IDX and Fashion-MNIST patches, determinism, and bad options.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"

"$G" lgn-patches --help | grep -q "^e.g.: gen-tasks lgn-patches" || fail "lgn-patches --help has no example"
"$G" --help | grep -q "lgn-patches" || fail "gen-tasks --help does not list lgn-patches"

# Gaussian patches, a quarter turn: T is a permutation and y = T x exactly.
expect_ok "$G" lgn-patches --transform rot90 --train 50 --test 10 --quiet -o "$WORK/r.h5"
$PY - "$WORK/r.h5" <<'PY' || fail "lgn-patches rot90 file"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert a["kind"] == "lgn-patches" and a["transform"] == "rot90" and a["source"] == "gaussian", dict(a)
assert a["patch"] == 6 and a["dim"] == 36 and a["whitened"] == 0 and a["whiten_epsilon"] == 0.01, dict(a)
assert f["train/x"].shape == (1, 50, 36) and f["train/y"].shape == (1, 50, 36)
assert f["test/x"].shape == (1, 10, 36) and f["test/y"].shape == (1, 10, 36)
assert f["train/x"].dtype == np.float64
T = f["truth/operator"][()]
assert T.shape == (36, 36)
assert set(np.unique(T)) == {0.0, 1.0} and (T.sum(0) == 1).all() and (T.sum(1) == 1).all()
for s in ("train", "test"):
    x, y = f[s + "/x"][0], f[s + "/y"][0]
    assert np.abs(y - x @ T.T).max() < 1e-12
# Counter-clockwise as displayed, pixels row-major: the top-right pixel goes top-left.
p = np.arange(36.0).reshape(6, 6)
assert np.array_equal((T @ p.ravel()).reshape(6, 6), np.rot90(p))
PY
"$G" lgn-patches --transform rot90 --train 50 --test 10 --quiet -o "$WORK/r2.h5"
cmp -s "$WORK/r.h5" "$WORK/r2.h5" || fail "same seed, different files"

# A box mean then a rotation on builtin glyphs, whitened; the --json summary.
expect_ok "$G" lgn-patches --transform rot60-box4 --source builtin --train 300 --test 40 --seed 2 --json -o "$WORK/b.h5" \
  >"$WORK/b.json"
$PY -c "import json,sys; j=json.load(open(sys.argv[1])); c=j['config']; assert c['kind']=='lgn-patches' and c['transform']=='rot60-box4' and c['train']==300, c" \
  "$WORK/b.json" || fail "--json summary"
$PY - "$WORK/b.h5" <<'PY' || fail "lgn-patches builtin file"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["whitened"] == 1 and f.attrs["source"] == "builtin"
T = f["truth/operator"][()]
assert np.allclose(T.sum(1)[T.sum(1) > 0], 1)  # rows of a rotated box mean sum to 1, or are empty
x, y = f["train/x"][0], f["train/y"][0]
assert np.abs(y - x @ T.T).max() < 1e-12 and x.min() < 0  # whitened values, not pixels
PY

# IDX files (one pool: the first --train images, then --test), raw pixels.
$PY - "$WORK" <<'PY' || fail "writing IDX files"
import struct, sys, numpy as np
rng = np.random.default_rng(0)
img = rng.integers(0, 256, size=(30, 8, 9), dtype=np.uint8)
with open(sys.argv[1] + "/img.idx", "wb") as f:
    f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 30, 8, 9) + img.tobytes())
with open(sys.argv[1] + "/lab.idx", "wb") as f:
    f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 30) + bytes(30))
np.save(sys.argv[1] + "/img.npy", img)
PY
expect_ok "$G" lgn-patches --transform box3 --source "idx:$WORK/img.idx,$WORK/lab.idx" --patch 4 --train 20 --test 10 \
  --no-whiten --quiet -o "$WORK/i.h5"
$PY - "$WORK" <<'PY' || fail "lgn-patches idx file"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1] + "/i.h5", "r")
img = np.load(sys.argv[1] + "/img.npy") / 255.0
assert f.attrs["whitened"] == 0 and f.attrs["dim"] == 16
T = f["truth/operator"][()]
for s, first in (("train", 0), ("test", 20)):
    x, y = f[s + "/x"][0], f[s + "/y"][0]
    assert np.abs(y - x @ T.T).max() < 1e-12
    for i in range(x.shape[0]):  # each x is some 4x4 window of its own image
        im = img[first + i]
        wins = [im[r:r + 4, c:c + 4].ravel() for r in range(5) for c in range(6)]
        assert min(np.abs(w - x[i]).max() for w in wins) < 1e-6, (s, i)
PY

# Fashion-MNIST, whitened with the covariance of its 60000 training images.
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  expect_ok "$G" lgn-patches --transform rot45 --source fashion-mnist --train 100 --test 20 --quiet -o "$WORK/fm.h5"
  $PY - "$WORK/fm.h5" <<'PY' || fail "lgn-patches fashion-mnist file"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["whitened"] == 1 and f["train/x"].shape == (1, 100, 36) and f["test/x"].shape == (1, 20, 36)
T = f["truth/operator"][()]
x, y = f["test/x"][0], f["test/y"][0]
assert np.abs(y - x @ T.T).max() < 1e-12
PY
  expect_error 2 "holds 10000 images" "$G" lgn-patches --source fashion-mnist --test 10001 -o "$WORK/out.h5"
else
  echo "test_lgn_patches: Fashion-MNIST not installed, its part skipped"
fi

# Bad options: one line, exit 2, no output.
expect_error 2 "transform must be one of" "$G" lgn-patches --transform rot15 -o "$WORK/out.h5"
expect_error 2 "source must be" "$G" lgn-patches --source mnist -o "$WORK/out.h5"
expect_error 2 "patch must be in \[2, 16\]" "$G" lgn-patches --patch 1 -o "$WORK/out.h5"
expect_error 2 "patch must be in \[2, 16\]" "$G" lgn-patches --patch 17 -o "$WORK/out.h5"
expect_error 2 "box6 needs --patch >= 4" "$G" lgn-patches --transform box6 --patch 3 -o "$WORK/out.h5"
expect_error 2 "train must be in" "$G" lgn-patches --train 0 -o "$WORK/out.h5"
expect_error 2 "test must be in" "$G" lgn-patches --test 20000000 -o "$WORK/out.h5"
expect_error 2 "too large" "$G" lgn-patches --patch 16 --train 2000000 -o "$WORK/out.h5"
expect_error 2 "whiten-epsilon must be" "$G" lgn-patches --whiten-epsilon -1 -o "$WORK/out.h5"
expect_error 2 "fewer than --train + --test" "$G" lgn-patches --source "idx:$WORK/img.idx,$WORK/lab.idx" --patch 4 \
  --train 25 --test 10 -o "$WORK/out.h5"
expect_error 2 "does not fit" "$G" lgn-patches --source "idx:$WORK/img.idx,$WORK/lab.idx" --patch 9 --train 5 --test 5 \
  -o "$WORK/out.h5"
expect_error 2 "missing.idx" "$G" lgn-patches --source "idx:$WORK/missing.idx,$WORK/lab.idx" -o "$WORK/out.h5"
expect_error 2 "singular" "$G" lgn-patches --source builtin --train 20 --test 5 --whiten-epsilon 0 -o "$WORK/out.h5"
[ ! -e "$WORK/out.h5" ] || fail "a failed command left output"
no_temp_files "$WORK"
echo "test_lgn_patches: ok"
