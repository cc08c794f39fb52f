# meta-train's command line (issue 11): one subcommand per model with its own
# options and help, grouped by family; foreign options are errors; --resume
# needs no model; --config takes a section per model.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
"$G" locally-connected --tasks 120 --samples 8 --input-dim 10 --seed 1 --quiet -o "$WORK/tasks.h5"
"$G" rotated-scrambled --size 8 --train 100 --test 20 --seed 2 --quiet -o "$WORK/rs.h5"
"$G" sum-of-numbers --length 3 --test 50 --seed 3 --quiet -o "$WORK/sums.h5"
TRAIN="--meta-batch 4 --support 2 --query 6 --val-tasks 8 --val-every 5 --quiet"

# The top-level help: every model, one line each, under its family's heading, with its paper.
"$M" --help >"$WORK/help.txt"
for m in msr-fc msr-kron maml-fc maml-lc maml-conv sharing sharing-oracle sharing-none sharing-all sharing-brute \
  lconv lconv-random cnn fc fc-shallow; do
  grep -q "^  $m  .*\[.*\]$" "$WORK/help.txt" || fail "meta-train --help has no line for $m"
  "$M" "$m" --help >"$WORK/$m.help" || fail "$m --help"
  grep -q "^e.g.: gen-tasks .* && meta-train $m .* -o " "$WORK/$m.help" || fail "$m --help has no e.g. line"
  grep -q -- "--seed" "$WORK/$m.help" || fail "$m --help lacks the common options"
done
grep -q "^Meta-learned symmetries" "$WORK/help.txt" || fail "no MSR family heading"
grep -q "^Learned parameter sharing" "$WORK/help.txt" || fail "no sharing family heading"
grep -q "^Image classifiers" "$WORK/help.txt" || fail "no image family heading"
grep -q "msr-fc .*Zhou, Knowles, Finn 2021" "$WORK/help.txt" || fail "msr-fc's paper"
grep -q "lconv .*Dehmamy et al. 2021" "$WORK/help.txt" || fail "lconv's paper"

# Each model's help lists its own options only, each with its default.
for o in --epochs --filters --embed --outer-steps --hypergrad --kron-in --kernel; do
  if grep -q -- "$o " "$WORK/msr-fc.help"; then fail "msr-fc --help shows $o"; fi
done
for o in --inner-lr --meta-batch --support --prox --latent --embed --hidden; do
  if grep -q -- "$o " "$WORK/lconv.help"; then fail "lconv --help shows $o"; fi
done
for o in --outer-steps --hypergrad --restarts --entropy; do
  grep -q -- "$o " "$WORK/sharing.help" || fail "sharing --help lacks $o"
  if grep -q -- "$o " "$WORK/sharing-oracle.help"; then fail "sharing-oracle --help shows $o"; fi
done
grep -q -- "--steps INT=1000" "$WORK/msr-fc.help" || fail "msr-fc --help shows no default for --steps"
grep -q -- "--hidden INT=0" "$WORK/fc-shallow.help" || fail "fc-shallow --help lacks --hidden"
if grep -q -- "--resume" "$WORK/sharing.help"; then fail "sharing models cannot be resumed but offer --resume"; fi

# Options that are not the model's: exit 2, one line naming the option and the model.
expect_error 2 "meta-train: --prox is not an option of lconv (see meta-train lconv --help)" "$M" lconv --prox exclusive "$WORK/rs.h5"
expect_error 2 "meta-train: --kron-in is not an option of msr-fc" "$M" msr-fc --kron-in 3 "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --epochs is not an option of sharing" "$M" sharing --epochs 3 "$WORK/sums.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --model is gone: name the model first" "$M" --model msr-fc "$WORK/tasks.h5"
expect_error 2 "meta-train: unknown model 'msr-xx'" "$M" msr-xx "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: name a model" "$M"
expect_error 2 "meta-train: --steps needs a model first" "$M" --steps 5 "$WORK/tasks.h5"
expect_error 2 "meta-train: meta-train msr-fc: a tasks file is required" "$M" msr-fc -o "$WORK/x.h5"
[ ! -e "$WORK/x.h5" ] || fail "a refused command wrote its output"

# Options may come before the model name.
expect_ok "$M" $TRAIN --steps 4 msr-fc "$WORK/tasks.h5" -o "$WORK/before.h5"
expect_ok "$M" msr-fc $TRAIN --steps 4 "$WORK/tasks.h5" -o "$WORK/after.h5"
cmp -s "$WORK/before.h5" "$WORK/after.h5" || fail "option order changed the model"

# --resume FILE needs no model and no tasks file (the checkpoint records both):
# 10 steps then 10 more = 20 at once; likewise for an image model's epochs.
expect_ok "$M" msr-fc $TRAIN --steps 20 "$WORK/tasks.h5" -o "$WORK/straight.h5"
expect_ok "$M" msr-fc $TRAIN --steps 10 "$WORK/tasks.h5" -o "$WORK/half.h5"
expect_ok "$M" --resume "$WORK/half.h5" --steps 20 --quiet -o "$WORK/resumed.h5"
$PY - "$WORK/straight.h5" "$WORK/resumed.h5" <<'PY' || fail "resumed msr-fc differs from the uninterrupted run"
import h5py, sys
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in a["params"]:
    assert a["params"][k][()].tobytes() == b["params"][k][()].tobytes(), k
assert list(a["log/train_loss"][()]) == list(b["log/train_loss"][()])
PY
expect_ok "$M" cnn --filters 2 --epochs 2 --quiet "$WORK/rs.h5" -o "$WORK/two.h5"
expect_ok "$M" cnn --filters 2 --epochs 1 --quiet "$WORK/rs.h5" -o "$WORK/one.h5"
expect_ok "$M" --resume "$WORK/one.h5" --epochs 2 --quiet -o "$WORK/one-more.h5"
$PY - "$WORK/two.h5" "$WORK/one-more.h5" <<'PY' || fail "resumed cnn differs from the uninterrupted run"
import h5py, sys
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in a["params"]:
    assert a["params"][k][()].tobytes() == b["params"][k][()].tobytes(), k
PY
# What the checkpoint fixes cannot change; the model named must be the file's.
expect_error 2 "meta-train: --meta-batch is fixed by the checkpoint .*half.h5; with --resume only --steps" \
  "$M" --resume "$WORK/half.h5" --meta-batch 8 -o "$WORK/x.h5"
expect_error 2 "meta-train: --seed is fixed by the checkpoint" "$M" --resume "$WORK/half.h5" --seed 3 -o "$WORK/x.h5"
expect_error 2 "meta-train: --lr is fixed by the checkpoint .*one.h5; with --resume only --epochs" \
  "$M" --resume "$WORK/one.h5" --lr 0.1 -o "$WORK/x.h5"
expect_error 2 "half.h5: holds a msr-fc model, not maml-fc" "$M" maml-fc --resume "$WORK/half.h5" -o "$WORK/x.h5"
expect_ok "$M" sharing-oracle --embed 4 --hidden 2 --final-steps 20 --quiet "$WORK/sums.h5" -o "$WORK/oracle.h5"
expect_error 2 "meta-train: --resume is not an option of sharing-oracle" "$M" --resume "$WORK/oracle.h5" -o "$WORK/x.h5"
expect_error 2 "tasks.h5: is a tasks file, expected a model file" "$M" --resume "$WORK/tasks.h5" -o "$WORK/x.h5"
"$M" msr-fc $TRAIN --steps 3 - <"$WORK/tasks.h5" >"$WORK/piped.h5"
expect_error 2 "was trained on stdin; name the tasks file to resume on" "$M" --resume "$WORK/piped.h5" -o "$WORK/x.h5"
expect_ok "$M" --resume "$WORK/piped.h5" --steps 4 --quiet "$WORK/tasks.h5" -o "$WORK/piped-more.h5"

# --config: a section per model gives the same model as the options; the command line wins.
printf '[msr-fc]\nmeta-batch = 4\nsupport = 2\nquery = 6\nval-tasks = 8\nval-every = 5\nsteps = 99\n\n[lconv]\nepochs = 1\n' >"$WORK/opts.ini"
expect_ok "$M" --config "$WORK/opts.ini" msr-fc --steps 4 --quiet "$WORK/tasks.h5" -o "$WORK/cfg.h5"
cmp -s "$WORK/after.h5" "$WORK/cfg.h5" || fail "--config sections did not give the same model as the options"
printf '[msr-fc]\nstepz = 4\n' >"$WORK/typo.ini"
expect_error 2 "meta-train: $WORK/typo.ini:2: unknown key 'stepz' (not an option of meta-train msr-fc)" "$M" --config "$WORK/typo.ini" msr-fc "$WORK/tasks.h5" -o "$WORK/x.h5"
echo ok

# --precision: float32 by default for the fused MSR kernel and the image passes, float64 on request,
# recorded in the file; the autodiff path records float64; a bad value is refused.
expect_ok "$M" msr-fc $TRAIN --steps 6 "$WORK/tasks.h5" -o "$WORK/p32.h5"
expect_ok "$M" msr-fc $TRAIN --steps 6 --precision float64 "$WORK/tasks.h5" -o "$WORK/p64.h5"
expect_ok "$M" msr-fc $TRAIN --steps 6 --engine autodiff "$WORK/tasks.h5" -o "$WORK/pad.h5"
expect_ok "$M" cnn --epochs 1 --filters 2 --quiet --precision float64 "$WORK/rs.h5" -o "$WORK/c64.h5"
$PY - "$WORK/p32.h5" "$WORK/p64.h5" "$WORK/pad.h5" "$WORK/c64.h5" <<'PY' || fail "precision records and values"
import h5py, json, sys
import numpy as np
cfg = [json.loads(h5py.File(f, "r").attrs["config"])["training"]["precision"] for f in sys.argv[1:]]
assert cfg == ["float32", "float64", "float64", "float64"], cfg
u32, u64 = (h5py.File(f, "r")["params/U"][()] for f in sys.argv[1:3])
assert not np.array_equal(u32, u64), "float32 and float64 trained identically"
assert np.abs(u32 - u64).max() < 1e-4 * np.abs(u64).max(), np.abs(u32 - u64).max()
PY
expect_error 2 "meta-train: --precision must be float32 or float64, not 'half'" \
  "$M" msr-fc --precision half "$WORK/tasks.h5" -o "$WORK/x.h5"
expect_error 2 "meta-train: --precision is not an option of maml-fc" \
  "$M" maml-fc --precision float32 "$WORK/tasks.h5" -o "$WORK/x.h5"
