# gen-tasks sum-of-numbers and gaussian-sharing end to end: help, the layout
# as h5py sees it, pipes, --json, determinism, bad options.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"

# Help: both kinds listed, each with an example.
"$G" --help >"$WORK/help" || fail "--help exit status"
grep -q "sum-of-numbers" "$WORK/help" || fail "--help does not list sum-of-numbers"
grep -q "gaussian-sharing" "$WORK/help" || fail "--help does not list gaussian-sharing"
for kind in sum-of-numbers gaussian-sharing; do
  "$G" $kind --help >"$WORK/help" || fail "$kind --help exit status"
  grep -q "^e.g.: gen-tasks $kind" "$WORK/help" || fail "$kind --help has no example"
  grep -q -- "--rank" "$WORK/help" || fail "$kind --help lacks --rank"
done

# sum-of-numbers at the default sizes (100000 test examples), with a JSON summary.
expect_ok "$G" sum-of-numbers --rank 2 --seed 4 -o "$WORK/sums.h5" --json >"$WORK/sums.json"
$PY - "$WORK/sums.h5" "$WORK/sums.json" <<'PY' || fail "sum-of-numbers: layout or definition"
import json, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
s = json.load(open(sys.argv[2]))
assert s["bytes"] > 0 and s["seconds"] < 5, s
cfg = json.loads(f.attrs["config"])
assert cfg == s["config"], (cfg, s["config"])
assert cfg == {"kind": "sum-of-numbers", "length": 10, "rank": 2, "w_scale": -1.0, "noise": 0.5,
               "train": 100, "val": 150, "hyper": 250, "test": 100000, "seed": 4}, cfg
assert f.attrs["kind"] == "sum-of-numbers" and f.attrs["symlearn_format"] == "tasks"
assert int(f.attrs["symlearn_version"]) == 1 and f.attrs["created_by"].startswith("gen-tasks ")
w = f["truth/weights"][()]
assert w.dtype == np.float64 and w.shape == (10,)
assert list(w) == [-1, 1] * 5, w
A = f["truth/sharing"][()]
assert A.dtype == np.float64 and A.shape == (10, 10)
assert (A.sum(1) == 1).all() and set(np.unique(A)) == {0.0, 1.0}
assert (A.argmax(1) == np.arange(10) % 2).all() and not A[:, 2:].any()
names = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
for split, n in (("train", 100), ("val", 150), ("hyper", 250), ("test", 100000)):
    x, y, words = f[split]["x"], f[split]["y"], f[split]["words"]
    assert x.dtype == np.int64 and x.shape == (1, n, 10), (split, x.dtype, x.shape)
    assert y.dtype == np.float64 and y.shape == (1, n, 1), (split, y.dtype, y.shape)
    assert h5py.check_string_dtype(words.dtype) is not None and words.shape == (1, n, 10)
    x, y = x[()], y[()]
    assert x.min() >= 1 and x.max() <= 9
    err = np.abs(y[0, :, 0] - x[0] @ w)
    if split == "test":
        assert err.max() == 0, err.max()
        assert set(np.unique(x)) == set(range(1, 10))
    else:
        assert err.max() <= 0.5 and err.max() > 0.1, (split, err.max())
    if split != "test":  # spelled out (checked on the small splits: decoding 1e6 strings is slow)
        wd = words.asstr()[()]
        assert all(wd[0, i, p] == names[x[0, i, p]] for i in range(n) for p in range(10)), split
PY
no_temp_files "$WORK"

# gaussian-sharing.
expect_ok "$G" gaussian-sharing --dim 6 --rank 2 --sigma 0.5 --test 4000 --seed 2 --quiet -o "$WORK/gauss.h5"
$PY - "$WORK/gauss.h5" <<'PY' || fail "gaussian-sharing: layout or definition"
import json, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
cfg = json.loads(f.attrs["config"])
assert cfg == {"kind": "gaussian-sharing", "dim": 6, "rank": 2, "sigma": 0.5,
               "train": 20, "val": 20, "test": 4000, "seed": 2}, cfg
assert f.attrs["kind"] == "gaussian-sharing"
assert sorted(f.keys()) == ["test", "train", "truth", "val"], list(f.keys())
for split, n in (("train", 20), ("val", 20), ("test", 4000)):
    assert list(f[split].keys()) == ["x"], (split, list(f[split].keys()))
    x = f[split]["x"]
    assert x.dtype == np.float64 and x.shape == (1, n, 6), (split, x.dtype, x.shape)
A, psi, means = f["truth/sharing"][()], f["truth/psi"][()], f["truth/means"][()]
assert A.shape == (6, 6) and psi.shape == (6,) and means.shape == (6,)
assert A.dtype == psi.dtype == means.dtype == np.float64
assert (A.sum(1) == 1).all() and set(np.unique(A)) == {0.0, 1.0} and not A[:, 2:].any()
assert set(A.argmax(1)) == {0, 1}, A
assert list(psi) == [3, 6, 0, 0, 0, 0], psi
assert np.array_equal(means, A @ psi)
x = f["test"]["x"][()][0]
assert np.abs(x.mean(0) - means).max() < 5 * 0.5 / np.sqrt(4000), x.mean(0)
assert np.abs(x.std(0) - 0.5).max() < 0.05, x.std(0)
PY

# Pipes: stdout carries the same bytes as a file; h5dump and h5py read it from a pipe.
expect_ok "$G" sum-of-numbers --test 20 --seed 4 --quiet -o "$WORK/small.h5"
"$G" sum-of-numbers --test 20 --seed 4 --quiet | cat >"$WORK/piped.h5"
cmp -s "$WORK/small.h5" "$WORK/piped.h5" || fail "sum-of-numbers: stdout differs from the file"
# (h5dump and h5ls need a seekable file: a pipe goes through cat into one.)
"$G" sum-of-numbers --test 3 --length 4 --seed 4 --quiet -o - | cat >"$WORK/words.h5"
h5dump -d /test/words "$WORK/words.h5" >"$WORK/dump" || fail "h5dump cannot read a piped sum-of-numbers file"
grep -q '"one"\|"two"\|"three"\|"four"\|"five"\|"six"\|"seven"\|"eight"\|"nine"' "$WORK/dump" ||
  fail "h5dump shows no words: $(cat "$WORK/dump")"
grep -q "( 1, 3, 4 )" "$WORK/dump" || fail "h5dump: /test/words shape"
"$G" gaussian-sharing --seed 2 --quiet | $PY -c "
import io, sys, h5py
f = h5py.File(io.BytesIO(sys.stdin.buffer.read()), 'r')
assert f['test/x'].shape == (1, 1000, 10) and f['truth/sharing'].shape == (10, 10)
" || fail "h5py cannot read a piped gaussian-sharing file"

# Determinism: the same seed gives the same bytes; another seed other data.
expect_ok "$G" gaussian-sharing --seed 2 --quiet -o "$WORK/g1.h5"
expect_ok "$G" gaussian-sharing --seed 2 --quiet --threads 1 -o "$WORK/g2.h5"
cmp -s "$WORK/g1.h5" "$WORK/g2.h5" || fail "gaussian-sharing: same seed, different files"
expect_ok "$G" gaussian-sharing --seed 3 --quiet -o "$WORK/g3.h5"
if cmp -s "$WORK/g1.h5" "$WORK/g3.h5"; then fail "gaussian-sharing: different seeds gave the same file"; fi
expect_ok "$G" sum-of-numbers --test 20 --seed 5 --quiet -o "$WORK/small5.h5"
if cmp -s "$WORK/small.h5" "$WORK/small5.h5"; then fail "sum-of-numbers: different seeds gave the same file"; fi

# Options from a config file section.
printf '[sum-of-numbers]\nseed = 4\ntest = 20\n' >"$WORK/opts.ini"
expect_ok "$G" sum-of-numbers --config "$WORK/opts.ini" --quiet -o "$WORK/cfg.h5"
cmp -s "$WORK/small.h5" "$WORK/cfg.h5" || fail "--config did not give the same file as the options"

# Bad options: exit 2, one line naming the option, nothing written.
S="$G sum-of-numbers"
expect_error 2 "gen-tasks: --length must be in \[1, 4096\] (got 0)" $S --length 0 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --rank must be 1 or 2 (got 3)" $S --rank 3 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --rank 2 needs --length at least 2" $S --rank 2 --length 1 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --noise must be a finite number >= 0 (got -1)" $S --noise -1 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --noise: not a finite number: nan" $S --noise nan -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --w-scale: not a finite number: inf" $S --rank 2 --w-scale inf -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --test must be at least 1 (got 0)" $S --test 0 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --hyper must be at least 1 (got -5)" $S --hyper -5 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: .*--train" $S --train many -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: .*--sigma" $S --sigma 1 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --json needs -o FILE" $S --json
S="$G gaussian-sharing"
expect_error 2 "gen-tasks: --rank must be in \[1, --dim 10\] (got 11)" $S --rank 11 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --rank must be in \[1, --dim 4\] (got 0)" $S --dim 4 --rank 0 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --dim must be in \[1, 4096\]" $S --dim -2 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --sigma must be a finite number >= 0 (got -0.5)" $S --sigma -0.5 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --sigma: not a finite number: inf" $S --sigma inf -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: --val must be at least 1 (got 0)" $S --val 0 -o "$WORK/bad.h5"
expect_error 2 "gen-tasks: .*--noise" $S --noise 1 -o "$WORK/bad.h5"
[ ! -e "$WORK/bad.h5" ] || fail "a bad option left an output file"
no_temp_files "$WORK"
echo "ok"
