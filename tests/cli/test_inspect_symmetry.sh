# inspect-symmetry end to end: msr-fc trained on rank-1 (convolution) data
# recovers the convolution; an untrained model and one trained on data whose
# inputs are permuted per task do not. Text, JSON, the PNG decoded back,
# pipes, and bad inputs.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
I="$BIN/inspect-symmetry"
export PYTHONPATH="$TESTS/cli" PYTHONDONTWRITEBYTECODE=1

# 20 -> 18, kernel 3: 1000 outer steps take well under a second and recover
# the convolution for every seed tried (within-diagonal |cos| >= 0.997,
# across diagonals <= 0.12, band rows >= 0.93 of the largest row).
DATA="--input-dim 20 --tasks 2000 --seed 1 --quiet"
"$G" locally-connected $DATA -o "$WORK/conv.h5"
"$G" locally-connected $DATA --permute-inputs -o "$WORK/perm.h5"
"$M" msr-fc --steps 1000 --quiet "$WORK/conv.h5" -o "$WORK/trained.h5"
"$M" msr-fc --steps 0 --quiet "$WORK/conv.h5" -o "$WORK/untrained.h5"
"$M" msr-fc --steps 1000 --quiet "$WORK/perm.h5" -o "$WORK/permuted.h5"

"$I" --help | grep -q "^e.g.: inspect-symmetry model.h5 --truth tasks.h5 --png model.png" || fail "--help has no example"
"$I" --version | grep -q "^inspect-symmetry [0-9]" || fail "--version"

# Text: the trained model recovered the convolution, the others did not.
expect_ok "$I" "$WORK/trained.h5" --truth "$WORK/conv.h5" >"$WORK/trained.txt"
grep -q "^U  \[360 x 3\], 1080 parameters, /params/U$" "$WORK/trained.txt" || fail "U header: $(cat "$WORK/trained.txt")"
grep -q "^  tying            partition distance 0 over 54 band rows in 3 groups" "$WORK/trained.txt" ||
  fail "trained: tying line: $(cat "$WORK/trained.txt")"
grep -q "^  verdict          convolution recovered: band mass 0\.9[0-9]* > 0.9" "$WORK/trained.txt" ||
  fail "trained: verdict: $(cat "$WORK/trained.txt")"
for name in untrained permuted; do
  expect_ok "$I" "$WORK/$name.h5" --truth "$WORK/conv.h5" >"$WORK/$name.txt"
  grep -q "^  verdict          convolution not recovered: band mass 0\.[0-8][0-9]* <= 0.9, partition distance [1-9]" \
    "$WORK/$name.txt" || fail "$name: verdict: $(cat "$WORK/$name.txt")"
done
# No escape sequences when stdout is not a terminal; a heatmap when it is.
if grep -q "$(printf '\033')" "$WORK/trained.txt"; then fail "colour codes written to a pipe"; fi
script -qec "$I $WORK/trained.h5" /dev/null >"$WORK/tty.txt" 2>&1
grep -q "$(printf '\033')\[38;2;" "$WORK/tty.txt" || fail "no colour heatmap on a terminal"
grep -q "as W (18 x 20, output i down" "$WORK/tty.txt" || fail "no heatmap title on a terminal"

# JSON: every number, with the same verdicts.
for name in trained untrained permuted; do
  expect_ok "$I" --json "$WORK/$name.h5" --truth "$WORK/conv.h5" >"$WORK/$name.json"
done
$PY - "$WORK" <<'PY' || fail "JSON report"
import json, sys
w = sys.argv[1]
r = {n: json.load(open(f"{w}/{n}.json")) for n in ("trained", "untrained", "permuted")}
t = r["trained"]
assert t["model"]["kind"] == "msr-fc" and t["model"]["input_dim"] == 20 and t["model"]["output_dim"] == 18, t["model"]
assert t["truth"]["rank"] == 1 and t["truth"]["kernel"] == 3 and not t["truth"]["permuted_inputs"], t["truth"]
(u,) = t["matrices"]
assert u["name"] == "U" and u["shape"] == [360, 3] and u["parameters"] == 1080, u["shape"]
assert len(u["singular_values"]) == 3 and 2.5 < u["effective_rank"] <= 3, u["singular_values"]
assert [s["below_fraction_of_max"] for s in u["sparsity"]] == [1e-6, 1e-3, 1e-2]
h = u["histogram"]
assert sum(h["counts"]) + h["below"] == 1080 and len(h["edges"]) == len(h["counts"]) + 1, h
sh = u["sharing"]
assert len(sh["map"]) == 18 and len(sh["map"][0]) == 20, "map is m x n"
tr = sh["truth"]
assert tr["band_mass"] > 0.9 and tr["span_captured"] > 0.9, tr
assert tr["tying"] == {**tr["tying"], "partition_distance": 0, "band_rows": 54, "band_rows_used": 54,
                       "band_groups": 3, "band_rows_near_zero": 0, "recovered": True}, tr["tying"]
for name in ("untrained", "permuted"):
    tr = r[name]["matrices"][0]["sharing"]["truth"]
    assert tr["band_mass"] < 0.5 and tr["span_captured"] < 0.5, (name, tr)
    assert tr["tying"]["partition_distance"] >= 20 and not tr["tying"]["recovered"], (name, tr["tying"])
PY

# The truth file of the permuted data says so.
"$I" "$WORK/permuted.h5" --truth "$WORK/perm.h5" | grep -q "^truth .*inputs permuted per task" || fail "permuted truth not flagged"

# The picture: decoded back, its size and the colours of known entries.
expect_ok "$I" --json --png "$WORK/trained.png" "$WORK/trained.h5" --truth "$WORK/conv.h5" >"$WORK/fig.json"
no_temp_files "$WORK"
$PY - "$WORK/trained.png" "$WORK/fig.json" "$WORK/trained.h5" <<'PY' || fail "PNG contents"
import json, sys
import h5py, numpy as np
from png_decode import read_png
width, height, pixel = read_png(sys.argv[1])
fig = json.load(open(sys.argv[2]))["figure"]
assert (width, height) == (fig["width"], fig["height"]) and width > 600 and height > 300, (width, height)
DARK_RED, DARK_BLUE = (103, 0, 31), (5, 48, 97)
def centre(p, i, j):
    return pixel(p["x"] + j * p["cell"] + p["cell"] // 2, p["y"] + i * p["cell"] + p["cell"] // 2)
panels = {p["title"]: p for p in fig["panels"]}
mp = panels["U: max_k |U[(i,j),k]| [18 x 20]"]
assert (mp["rows"], mp["cols"], mp["stride"]) == (18, 20, 1), mp
U = h5py.File(sys.argv[3], "r")["params/U"][()]
umap = np.abs(U).max(axis=1).reshape(20, 18).T  # W[i, j] is row i + 18 j
i, j = np.unravel_index(np.argmax(umap), umap.shape)
assert centre(mp, i, j) == DARK_RED, centre(mp, i, j)          # the largest entry: the end of the scale
assert min(centre(mp, 0, 19)) > 200, centre(mp, 0, 19)          # far off the band: near-white
assert centre(mp, 5, 5)[1] < 150, centre(mp, 5, 5)              # on the band: clearly red
col = panels["U[:,0] as W [18 x 20]"]
w0 = U[:, 0].reshape(20, 18).T
i, j = np.unravel_index(np.argmax(np.abs(w0)), w0.shape)
assert centre(col, i, j) == (DARK_RED if w0[i, j] > 0 else DARK_BLUE), centre(col, i, j)
assert any(p["kind"] == "histogram" for p in fig["panels"])
PY

# Pipes: the model from stdin, the PNG to stdout.
cat "$WORK/trained.h5" | "$I" - --truth "$WORK/conv.h5" >"$WORK/stdin.txt" || fail "model from stdin"
grep -q "^model   <stdin>: msr-fc model" "$WORK/stdin.txt" || fail "stdin report: $(cat "$WORK/stdin.txt")"
tail -n +2 "$WORK/stdin.txt" >"$WORK/a.txt"
tail -n +2 "$WORK/trained.txt" >"$WORK/b.txt"
cmp -s "$WORK/a.txt" "$WORK/b.txt" || fail "stdin and file reports differ"
"$I" --png - "$WORK/trained.h5" --truth "$WORK/conv.h5" | cat >"$WORK/piped.png"
cmp -s "$WORK/piped.png" "$WORK/trained.png" || fail "--png - differs from --png FILE"

# What it cannot analyse: said clearly, exit 0.
"$M" maml-fc --steps 2 --quiet "$WORK/conv.h5" -o "$WORK/maml.h5"
expect_ok "$I" "$WORK/maml.h5" >"$WORK/maml.txt"
grep -q "a maml-fc model has no symmetry parameters" "$WORK/maml.txt" || fail "maml-fc: $(cat "$WORK/maml.txt")"
expect_ok "$I" --json "$WORK/maml.h5" --png "$WORK/maml.png" >"$WORK/maml.json"
$PY -c "
import json; j = json.load(open('$WORK/maml.json'))
assert j['matrices'] == [] and 'no symmetry parameters' in j['notes'][0], j
" || fail "maml-fc JSON"

# Bad inputs: exit 2, one line, an existing picture untouched.
echo "precious" >"$WORK/keep.png"
expect_error 2 "inspect-symmetry: .*conv.h5: is a tasks file, expected a model file" "$I" "$WORK/conv.h5" --png "$WORK/keep.png"
expect_error 2 "inspect-symmetry: .*trained.h5: is a model file, expected a tasks file" "$I" "$WORK/trained.h5" --truth "$WORK/trained.h5"
"$G" locally-connected --input-dim 14 --tasks 10 --samples 2 --quiet -o "$WORK/other.h5"
expect_error 2 "inspect-symmetry: .*other.h5: holds 14 -> 12 tasks but the msr-fc model .*trained.h5 maps 20 -> 18" \
  "$I" "$WORK/trained.h5" --truth "$WORK/other.h5" --png "$WORK/keep.png"
printf 'junk' | expect_error 2 "inspect-symmetry: <stdin>: not an HDF5 file" "$I" -
expect_error 2 "inspect-symmetry: .*nothing.h5: No such file" "$I" "$WORK/nothing.h5"
expect_error 2 "inspect-symmetry: --json and --png - both want stdout" "$I" --json --png - "$WORK/trained.h5"
expect_error 2 "inspect-symmetry: .*no-such-dir.*cannot create a file" "$I" "$WORK/trained.h5" --png "$WORK/no-such-dir/x.png"
expect_error 2 "inspect-symmetry: .*--cos-threshold" "$I" "$WORK/trained.h5" --cos-threshold 2
[ "$(cat "$WORK/keep.png")" = "precious" ] || fail "a failed run changed the existing picture"
script -qec "$I --png - $WORK/trained.h5" /dev/null >"$WORK/tty.txt" 2>&1 && fail "wrote a PNG to a terminal"
grep -q "inspect-symmetry: <stdout>: is a terminal" "$WORK/tty.txt" || fail "no terminal refusal: $(cat "$WORK/tty.txt")"
no_temp_files "$WORK"
echo ok
