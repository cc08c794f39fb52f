# meta-train and eval end to end: pipes and files, resume, errors.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
E="$BIN/eval"
"$G" locally-connected --tasks 120 --samples 8 --input-dim 10 --seed 1 --quiet -o "$WORK/tasks.h5"
TRAIN="--meta-batch 4 --support 2 --query 6 --val-tasks 8 --val-every 5 --quiet"

# Help and version.
"$M" --help | grep -q "^e.g.: gen-tasks locally-connected -o tasks.h5 && meta-train msr-fc" || fail "meta-train --help has no example"
"$E" --help | grep -q "shell builtin" || fail "eval --help does not warn about the builtin"

# Through files.
expect_ok "$M" msr-fc $TRAIN --steps 20 "$WORK/tasks.h5" -o "$WORK/model.h5"
h5dump -a /symlearn_format "$WORK/model.h5" | grep -q '"model"' || fail "model file format attribute"
h5dump -a /params/U/role "$WORK/model.h5" | grep -q '"symmetry"' || fail "U has no symmetry role"
$PY - "$WORK/model.h5" "$WORK/tasks.h5" <<'PY' || fail "model file contents"
import h5py, json, sys, hashlib
f = h5py.File(sys.argv[1], "r")
cfg = json.loads(f.attrs["config"])
assert f.attrs["model"] == "msr-fc"
assert f["params/U"].shape == (80, 3) and f["params/v0"].shape == (3, 1), f["params/U"].shape
assert f["params/v0"].attrs["role"] == "init" and f["params/inner_lr_v0"].attrs["role"] == "hyper"
assert len(f["log/train_loss"]) == 20 and list(f["log/val_step"][()]) == [5, 10, 15, 20]
assert cfg["model"]["latent"] == 3 and cfg["training"]["meta_batch"] == 4 and cfg["seed"] == 0
assert cfg["dataset"]["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
PY
"$E" --tasks "$WORK/tasks.h5" "$WORK/model.h5" >"$WORK/eval.txt" || fail "eval exit status"
grep -q "^msr-fc on .*tasks.h5 /test: MSE [0-9.]* ± [0-9.]* (95% CI, 24 tasks, support 2, query 6)" "$WORK/eval.txt" ||
  fail "eval output: $(cat "$WORK/eval.txt")"

# Through pipes: gen-tasks | meta-train | eval, the same numbers as through files.
"$G" locally-connected --tasks 120 --samples 8 --input-dim 10 --seed 1 --quiet |
  "$M" msr-fc $TRAIN --steps 20 - | "$E" --tasks "$WORK/tasks.h5" --json - >"$WORK/pipe.json"
"$E" --tasks "$WORK/tasks.h5" --json "$WORK/model.h5" >"$WORK/file.json"
cmp -s "$WORK/pipe.json" "$WORK/file.json" || fail "pipe and file results differ"
# stdin is spooled to a temporary file in TMPDIR that is gone once opened, also when it is not HDF5.
mkdir "$WORK/spool"
TMPDIR="$WORK/spool" "$M" msr-fc $TRAIN --steps 2 - <"$WORK/tasks.h5" >/dev/null
printf 'not hdf5 at all' | TMPDIR="$WORK/spool" expect_error 2 "meta-train: <stdin>: not an HDF5 file" "$M" msr-fc -
[ -z "$(ls -A "$WORK/spool")" ] || fail "stdin spool files left: $(ls -A "$WORK/spool")"
# Bad tasks files through the new readers (spooled stdin, float32 data): truncated, absurd sizes.
head -c 20000 "$WORK/tasks.h5" >"$WORK/trunc.h5"
TMPDIR="$WORK/spool" expect_error 2 "meta-train: <stdin>: " "$M" msr-fc - <"$WORK/trunc.h5"
expect_error 2 "meta-train: .*trunc.h5: " "$M" msr-fc "$WORK/trunc.h5" -o "$WORK/keep.h5"
$PY - "$WORK/tasks.h5" "$WORK/huge.h5" <<'PY'
import h5py, shutil, sys
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:  # a header claiming 2^40 tasks, no data behind it
    for name, dim in (("x", 10), ("y", 8)):
        del f["train/" + name]
        f.create_dataset("train/" + name, shape=(2**40, 8, dim), dtype="f4", chunks=(1, 8, dim))
PY
TMPDIR="$WORK/spool" expect_error 2 "meta-train: <stdin>: /train/x \[1099511627776,8,10\] would need .* GB, more than this machine's memory" \
  "$M" msr-fc - <"$WORK/huge.h5"
[ -z "$(ls -A "$WORK/spool")" ] || fail "stdin spool files left"
TMPDIR="$WORK/none" expect_error 2 "<stdin>: cannot make a temporary file in $WORK/none" "$M" msr-fc - <"$WORK/tasks.h5"
"$E" --tasks "$WORK/tasks.h5" --limit 5 --seed 2 -o "$WORK/per-task.h5" "$WORK/model.h5" >/dev/null
$PY -c "
import h5py; f = h5py.File('$WORK/per-task.h5', 'r')
assert f.attrs['symlearn_format'] == 'report' and f['loss'].shape == (5,) and f['task'].shape == (5,)
" || fail "per-task output"

# Every model kind trains and evaluates; the thread count changes nothing.
for kind in msr-kron maml-fc maml-lc maml-conv; do
  expect_ok "$M" "$kind" $TRAIN --steps 6 --threads 1 "$WORK/tasks.h5" -o "$WORK/$kind-1.h5"
  expect_ok "$M" "$kind" $TRAIN --steps 6 --threads 2 "$WORK/tasks.h5" -o "$WORK/$kind-2.h5"
  cmp -s "$WORK/$kind-1.h5" "$WORK/$kind-2.h5" || fail "$kind: --threads 1 and 2 differ"
  "$E" --tasks "$WORK/tasks.h5" "$WORK/$kind-1.h5" | grep -q "^$kind on" || fail "eval $kind"
done

# Resume: 10 steps, then 10 more from the checkpoint = 20 uninterrupted steps.
expect_ok "$M" msr-fc $TRAIN --steps 10 "$WORK/tasks.h5" -o "$WORK/half.h5"
expect_ok "$M" --resume "$WORK/half.h5" --steps 20 --quiet "$WORK/tasks.h5" -o "$WORK/resumed.h5"
"$E" --tasks "$WORK/tasks.h5" --json "$WORK/resumed.h5" >"$WORK/resumed.json"
cmp -s "$WORK/file.json" "$WORK/resumed.json" || fail "resumed run ends with a different model"
h5dump -d /params/U "$WORK/model.h5" | tail -n +2 >"$WORK/u1.txt"
h5dump -d /params/U "$WORK/resumed.h5" | tail -n +2 >"$WORK/u2.txt"
cmp -s "$WORK/u1.txt" "$WORK/u2.txt" || fail "resumed U differs"

# Interrupted by a signal: a checkpoint is written; resuming from it finishes the same model.
"$M" msr-fc $TRAIN --steps 1000000 --checkpoint-every 50 "$WORK/tasks.h5" -o "$WORK/int.h5" 2>"$WORK/int.err" &
pid=$!
# Wait for the first periodic checkpoint (training has started, the handler is
# in place), however slow the machine.
for _ in $(seq 200); do [ -e "$WORK/int.h5.ckpt" ] && break; sleep 0.1; done
[ -e "$WORK/int.h5.ckpt" ] || fail "no periodic checkpoint after 20 s"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 130 ] || fail "interrupted meta-train exit status $rc, expected 130: $(cat "$WORK/int.err")"
grep -q "checkpoint written to $WORK/int.h5.ckpt" "$WORK/int.err" || fail "no checkpoint message: $(cat "$WORK/int.err")"
[ ! -e "$WORK/int.h5" ] || fail "an interrupted run wrote its output"
no_temp_files "$WORK"
# Resuming the signal's checkpoint for 5 more steps = the same steps uninterrupted.
done_steps=$($PY -c "import h5py, json; print(json.loads(h5py.File('$WORK/int.h5.ckpt', 'r').attrs['config'])['steps_done'])")
[ "$done_steps" -gt 0 ] || fail "the checkpoint records no steps"
target=$((done_steps + 5))
expect_ok "$M" --resume "$WORK/int.h5.ckpt" --steps "$target" --quiet "$WORK/tasks.h5" -o "$WORK/int-resumed.h5"
expect_ok "$M" msr-fc $TRAIN --steps "$target" "$WORK/tasks.h5" -o "$WORK/int-straight.h5"
h5dump -d /params/U "$WORK/int-resumed.h5" | tail -n +2 >"$WORK/u3.txt"
h5dump -d /params/U "$WORK/int-straight.h5" | tail -n +2 >"$WORK/u4.txt"
cmp -s "$WORK/u3.txt" "$WORK/u4.txt" || fail "a run resumed after SIGTERM differs from an uninterrupted one"

# The ridge inner solver (issue 14): trains, records log_lambda, evaluates
# through the same exact fit, resumes; its options are refused where they do not apply.
expect_ok "$M" msr-fc $TRAIN --inner-solver ridge --ridge-lambda 0.05 --steps 30 "$WORK/tasks.h5" -o "$WORK/ridge.h5"
$PY - "$WORK/ridge.h5" <<'PY' || fail "ridge model file contents"
import h5py, json, math, sys
f = h5py.File(sys.argv[1], "r")
cfg = json.loads(f.attrs["config"])
assert cfg["model"]["inner_solver"] == "ridge" and cfg["model"]["ridge_lambda"] == 0.05, cfg["model"]
assert f["params/log_lambda"].shape == (1, 1) and f["params/log_lambda"].attrs["role"] == "hyper"
assert "params/inner_lr_v0" not in f
assert abs(f["params/log_lambda"][0, 0] - math.log(0.05)) > 1e-9  # learned: it moved
PY
"$E" --tasks "$WORK/tasks.h5" "$WORK/ridge.h5" | grep -q "^msr-fc on .*tasks.h5 /test: MSE" || fail "eval of a ridge model"
expect_ok "$M" --resume "$WORK/ridge.h5" --steps 40 --quiet -o "$WORK/ridge40.h5"
$PY - "$WORK/ridge.h5" "$WORK/ridge-bad.h5" <<'PY'
import shutil, sys, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    f["params/log_lambda"][0, 0] = 100.0
PY
expect_error 2 "eval: .*ridge-bad.h5: /params/log_lambda is outside \[-50, 50\]" \
  "$E" --tasks "$WORK/tasks.h5" "$WORK/ridge-bad.h5"
# The ridge fields of a model's config, and the file itself, damaged.
$PY - "$WORK/ridge.h5" "$WORK" <<'PY'
import json, shutil, sys, h5py
src, d = sys.argv[1], sys.argv[2]
def variant(name, edit):
    shutil.copy(src, f"{d}/{name}.h5")
    with h5py.File(f"{d}/{name}.h5", "r+") as f:
        edit(f)
def set_model(key, value):
    def edit(f):
        cfg = json.loads(f.attrs["config"])
        cfg["model"][key] = value
        f.attrs["config"] = json.dumps(cfg)
    return edit
variant("ridge-type", set_model("inner_solver", 5))
variant("ridge-lambda", set_model("ridge_lambda", -1))
variant("ridge-unknown", set_model("inner_solver", "newton"))
variant("ridge-nolog", lambda f: f.__delitem__("params/log_lambda"))
PY
expect_error 2 "eval: .*ridge-type.h5: the model.s architecture record is incomplete" "$E" --tasks "$WORK/tasks.h5" "$WORK/ridge-type.h5"
expect_error 2 "eval: .*ridge-lambda.h5: .*--ridge-lambda must be in" "$E" --tasks "$WORK/tasks.h5" "$WORK/ridge-lambda.h5"
expect_error 2 "eval: .*ridge-unknown.h5: .*--inner-solver must be sgd or ridge" "$E" --tasks "$WORK/tasks.h5" "$WORK/ridge-unknown.h5"
expect_error 2 "eval: .*ridge-nolog.h5: .*log_lambda" "$E" --tasks "$WORK/tasks.h5" "$WORK/ridge-nolog.h5"
head -c 4000 "$WORK/ridge.h5" >"$WORK/ridge-cut.h5"
expect_error 2 "eval: .*ridge-cut.h5" "$E" --tasks "$WORK/tasks.h5" "$WORK/ridge-cut.h5"
# msr-kron too: trains with ridge, evaluates through the same exact fit.
expect_ok "$M" msr-kron $TRAIN --inner-solver ridge --steps 20 "$WORK/tasks.h5" -o "$WORK/kron-ridge.h5"
$PY - "$WORK/kron-ridge.h5" <<'PY' || fail "msr-kron ridge model file contents"
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
assert json.loads(f.attrs["config"])["model"]["inner_solver"] == "ridge"
assert f["params/log_lambda"].shape == (1, 1) and "params/inner_lr_v0" not in f
PY
"$E" --tasks "$WORK/tasks.h5" "$WORK/kron-ridge.h5" | grep -q "^msr-kron on .*tasks.h5 /test: MSE" || fail "eval of a msr-kron ridge model"
expect_error 2 "meta-train: --inner-solver must be sgd or ridge, not 'newton'" \
  "$M" msr-fc --inner-solver newton "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --inner-solver is not an option of maml-fc" \
  "$M" maml-fc --inner-solver ridge "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --ridge-lambda must be in (0, 1e6\]" \
  "$M" msr-fc --inner-solver ridge --ridge-lambda 0 "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --inner-solver ridge runs on the fused kernel only" \
  "$M" msr-fc $TRAIN --inner-solver ridge --engine autodiff "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --first-order is MAML's" \
  "$M" msr-fc $TRAIN --inner-solver ridge --first-order "$WORK/tasks.h5" -o "$WORK/x.h5"

# Bad inputs: exit 2 and one line.
echo "precious" >"$WORK/keep.h5"
expect_error 2 "eval: .*tasks.h5: is a tasks file, expected a model file" "$E" --tasks "$WORK/tasks.h5" "$WORK/tasks.h5"
expect_error 2 "meta-train: .*model.h5: is a model file, expected a tasks file" "$M" msr-fc "$WORK/model.h5" -o "$WORK/keep.h5"
"$G" locally-connected --tasks 20 --samples 8 --input-dim 14 --quiet -o "$WORK/other.h5"
expect_error 2 "eval: .*model.h5: the msr-fc model maps 10 -> 8 but .*other.h5 /test holds 14 -> 12 tasks" \
  "$E" --tasks "$WORK/other.h5" "$WORK/model.h5"
expect_error 2 "meta-train: .*other.h5: is not the dataset" "$M" --resume "$WORK/model.h5" "$WORK/other.h5" -o "$WORK/keep.h5"
expect_error 2 "meta-train: unknown model 'msr-xx'" "$M" msr-xx "$WORK/tasks.h5" -o "$WORK/keep.h5"
expect_error 2 "meta-train: --support 5 + --query 6 exceeds the 8 examples per task of .*tasks.h5" "$M" msr-fc $TRAIN --support 5 "$WORK/tasks.h5" -o "$WORK/keep.h5"
expect_error 2 "meta-train: --inner-lr-mode must be" "$M" msr-fc --inner-lr-mode sometimes "$WORK/tasks.h5" -o "$WORK/keep.h5"
expect_error 2 "meta-train: .*nothing.h5: No such file" "$M" msr-fc "$WORK/nothing.h5" -o "$WORK/keep.h5"
printf 'not hdf5' | expect_error 2 "eval: <stdin>: not an HDF5 file" "$E" --tasks "$WORK/tasks.h5" -
head -c 3000 "$WORK/model.h5" >"$WORK/cut.h5"
expect_error 2 "eval: .*cut.h5" "$E" --tasks "$WORK/tasks.h5" "$WORK/cut.h5"
[ "$(cat "$WORK/keep.h5")" = "precious" ] || fail "a failed run changed the existing output"

# A diverging run stops with a clear message and keeps the last good checkpoint.
set +e
"$M" maml-fc $TRAIN --steps 200 --outer-opt sgd --outer-lr 1e200 --checkpoint-every 1 \
  "$WORK/tasks.h5" -o "$WORK/div.h5" 2>"$WORK/div.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "diverging run: exit status $rc"
grep -q "meta-train: the meta-training loss became .* at step" "$WORK/div.err" || fail "divergence message: $(cat "$WORK/div.err")"
[ ! -e "$WORK/div.h5" ] || fail "a diverged run wrote its output"
grep -q "the last good checkpoint (step [0-9]*) is $WORK/div.h5.ckpt" "$WORK/div.err" || fail "no checkpoint named: $(cat "$WORK/div.err")"
"$E" --tasks "$WORK/tasks.h5" "$WORK/div.h5.ckpt" | grep -q "^maml-fc on" || fail "the kept checkpoint is not usable"
echo ok
