# prox-regularize and meta-train --prox end to end.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
P="$BIN/prox-regularize"
E="$BIN/eval"
"$G" locally-connected --tasks 120 --samples 8 --input-dim 10 --seed 1 --quiet -o "$WORK/tasks.h5"
TRAIN="--meta-batch 4 --support 2 --query 6 --val-tasks 8 --val-every 5 --quiet"
"$M" msr-fc $TRAIN --steps 30 "$WORK/tasks.h5" -o "$WORK/model.h5"

"$P" --help | grep -q "^e.g.: prox-regularize --op exclusive" || fail "--help has no example"

# Through pipes: meta-train | prox-regularize | eval.
"$M" msr-fc $TRAIN --steps 30 "$WORK/tasks.h5" | "$P" --op exclusive --lambda 0.05 --quiet - |
  "$E" --tasks "$WORK/tasks.h5" - >"$WORK/pipe.txt"
grep -q "^msr-fc on .*: MSE" "$WORK/pipe.txt" || fail "pipe: $(cat "$WORK/pipe.txt")"

# To a file with a JSON report: sparsity rises, band mass is reported, provenance is appended.
"$P" --op exclusive --lambda 0.05 --truth "$WORK/tasks.h5" --json "$WORK/model.h5" -o "$WORK/sparse.h5" >"$WORK/r.json" ||
  fail "prox-regularize exit status"
$PY - "$WORK/r.json" "$WORK/sparse.h5" "$WORK/model.h5" <<'PY' || fail "report or model contents"
import h5py, json, sys, numpy as np
r = json.load(open(sys.argv[1]))["params"][0]
assert r["param"] == "U" and r["shape"] == [80, 3] and r["groups"] == 10, r
assert r["sparsity_after"] > r["sparsity_before"], r
assert 0 <= r["band_l1_before"] <= 1 and 0 <= r["band_l1_after"] <= 1, r
new, old = h5py.File(sys.argv[2], "r"), h5py.File(sys.argv[3], "r")
prov = json.loads(new.attrs["config"])["provenance"]
assert prov[-1]["op"] == "exclusive" and prov[-1]["lambda"] == 0.05 and prov[-1]["groups"] == "input", prov
assert np.array_equal(new["params/v0"][()], old["params/v0"][()])  # only U changes
u = new["params/U"][()]
# exclusive lasso within each input feature's group: W[:, j] <-> rows j*m .. j*m+m-1 (m = 8)
assert (np.abs(u) <= 1e-6 * np.abs(u).max()).mean() == r["sparsity_after"]
PY

# lambda 0 changes nothing; l1/group/combined run; --param selects; a group file works.
"$P" --op l1 --lambda 0 --quiet "$WORK/model.h5" -o "$WORK/same.h5"
h5dump -d /params/U "$WORK/model.h5" | tail -n +2 >"$WORK/u1.txt"
h5dump -d /params/U "$WORK/same.h5" | tail -n +2 >"$WORK/u2.txt"
cmp -s "$WORK/u1.txt" "$WORK/u2.txt" || fail "lambda 0 changed U"
for op in l1 group combined; do
  expect_ok "$P" --op "$op" --lambda 0.1 --quiet "$WORK/model.h5" -o "$WORK/$op.h5"
done
seq 0 79 | awk '{print int($1 / 8)}' >"$WORK/groups.txt"  # one id per row of U (here: blocks of 8 rows)
expect_ok "$P" --op group --lambda 0.1 --groups "$WORK/groups.txt" --param U --quiet "$WORK/model.h5" -o "$WORK/file.h5"

# meta-train with a proximal step after every update; --train-tasks limits the tasks used.
expect_ok "$M" msr-fc $TRAIN --steps 20 --train-tasks 40 --prox exclusive --prox-lambda 0.5 \
  --outer-opt sgd --outer-lr 0.05 "$WORK/tasks.h5" -o "$WORK/proxtrained.h5"
$PY -c "
import h5py, json, numpy as np
f = h5py.File('$WORK/proxtrained.h5', 'r'); t = json.loads(f.attrs['config'])['training']
assert t['prox']['op'] == 'exclusive' and t['prox']['lambda'] == 0.5 and t['train_tasks'] == 40, t
u = f['params/U'][()]; assert (np.abs(u) <= 1e-6 * np.abs(u).max()).mean() > 0.5, (np.abs(u) <= 1e-6 * np.abs(u).max()).mean()
" || fail "meta-train --prox did not sparsify U"

# Errors: exit 2 and one line.
expect_error 2 "prox-regularize: the proximal operator must be" "$P" --op lasso --lambda 1 "$WORK/model.h5" -o "$WORK/x.h5"
expect_error 2 "prox-regularize: .*--lambda is required" "$P" --op l1 "$WORK/model.h5" -o "$WORK/x.h5"
expect_error 2 "prox-regularize: --lambda and --step must be >= 0" "$P" --op l1 --lambda -1 "$WORK/model.h5" -o "$WORK/x.h5"
expect_error 2 "prox-regularize: .*tasks.h5: is a tasks file, expected a model file" "$P" --op l1 --lambda 1 "$WORK/tasks.h5" -o "$WORK/x.h5"
"$M" maml-fc $TRAIN --steps 2 "$WORK/tasks.h5" -o "$WORK/fc.h5"
expect_error 2 "prox-regularize: .*fc.h5: the maml-fc model has no symmetry parameters" "$P" --op l1 --lambda 1 "$WORK/fc.h5" -o "$WORK/x.h5"
expect_error 2 "prox-regularize: .*model.h5: the model has no parameter 'W'" "$P" --op l1 --lambda 1 --param W "$WORK/model.h5" -o "$WORK/x.h5"
echo "1 2 3" >"$WORK/short.txt"
expect_error 2 "prox-regularize: .*short.txt: has 3 group ids" "$P" --op group --lambda 1 --groups "$WORK/short.txt" "$WORK/model.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: the proximal operator must be" "$M" msr-fc --prox ridge "$WORK/tasks.h5" -o "$WORK/x.h5"
[ ! -e "$WORK/x.h5" ] || fail "a failed run wrote its output"
echo ok
