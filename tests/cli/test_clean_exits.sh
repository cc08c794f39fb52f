# Every path ends cleanly (issue 21): signals at known points (SYMLEARN_SIGNAL_AT),
# inside a long step, lost stdout, full disks, garbage models and options, config
# files, stdin that is not HDF5, stale temporaries. Each case checks the exit
# status, the one stderr line and that no temporary or partial file is left.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
T="$BIN/meta-train"
E="$BIN/eval"
I="$BIN/inspect-symmetry"
P="$BIN/prox-regularize"
W="$WORK/w"
mkdir -p "$W"

# expect_error_out STDOUT CODE PATTERN CMD...: like expect_error, with stdout sent to STDOUT
# ("closed" closes it).
expect_error_out() {
  out=$1 code=$2 pattern=$3
  shift 3
  set +e
  if [ "$out" = closed ]; then "$@" >&- 2>"$WORK/stderr"; else "$@" >"$out" 2>"$WORK/stderr"; fi
  rc=$?
  set -e
  [ "$rc" -eq "$code" ] || fail "$* >$out: exit status $rc, expected $code; stderr: $(cat "$WORK/stderr")"
  [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "$* >$out: stderr is not one line: $(cat "$WORK/stderr")"
  grep -q -- "$pattern" "$WORK/stderr" || fail "$* >$out: stderr '$(cat "$WORK/stderr")' lacks '$pattern'"
}

# expect_signal CODE PATTERN CMD...: expect_error for a command that dies of a signal (exit
# 128 + N): the shell's own report of that death ("Terminated") is not the tool's and is dropped.
expect_signal() {
  code=$1 pattern=$2
  shift 2
  set +e
  "$@" >"$WORK/stdout" 2>"$WORK/stderr.raw"
  rc=$?
  set -e
  grep -v -x -e "Terminated" -e "Interrupt" -e "" "$WORK/stderr.raw" >"$WORK/stderr" || true
  [ "$rc" -eq "$code" ] || fail "$*: exit status $rc, expected $code; stderr: $(cat "$WORK/stderr.raw")"
  [ ! -s "$WORK/stdout" ] || fail "$*: wrote to stdout"
  [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$WORK/stderr.raw")"
  grep -q -- "$pattern" "$WORK/stderr" || fail "$*: stderr '$(cat "$WORK/stderr")' lacks '$pattern'"
}

"$G" locally-connected --tasks 60 --input-dim 12 --quiet -o "$WORK/lc.h5"
SMALL="--meta-batch 4 --val-tasks 4 --threads 1 --quiet"
"$T" msr-fc $SMALL --steps 3 "$WORK/lc.h5" -o "$WORK/model.h5"

# ---- signals ---------------------------------------------------------------------
# SIGTERM / SIGINT while the final model is moved into place, after checkpoints were
# written: the old target stays whole, no temporary is left, the checkpoint is valid.
cp "$WORK/model.h5" "$W/m.h5"
cp "$W/m.h5" "$WORK/old.h5"
expect_signal 143 "meta-train: SIGTERM: stopped" \
  env SYMLEARN_SIGNAL_AT=commit:m.h5 "$T" msr-fc $SMALL --steps 4 --checkpoint-every 1 "$WORK/lc.h5" -o "$W/m.h5"
cmp -s "$W/m.h5" "$WORK/old.h5" || fail "the target changed under an interrupted write"
no_temp_files "$W"
expect_ok "$E" --tasks "$WORK/lc.h5" "$W/m.h5.ckpt" >/dev/null
expect_signal 130 "meta-train: SIGINT: stopped" \
  env SYMLEARN_SIGNAL=INT SYMLEARN_SIGNAL_AT=commit:n.h5 "$T" msr-fc $SMALL --steps 4 --checkpoint-every 1 "$WORK/lc.h5" -o "$W/n.h5"
[ ! -e "$W/n.h5" ] || fail "an interrupted first write left a target"
no_temp_files "$W"
# The same outside training: gen-tasks and prox-regularize.
expect_signal 143 "gen-tasks: SIGTERM: stopped" env SYMLEARN_SIGNAL_AT=commit:g.h5 "$G" sum-of-numbers --quiet -o "$W/g.h5"
expect_signal 143 "prox-regularize: SIGTERM: stopped" \
  env SYMLEARN_SIGNAL_AT=commit:p.h5 "$P" --op l1 --lambda 0.01 --quiet "$WORK/model.h5" -o "$W/p.h5"
[ ! -e "$W/g.h5" ] && [ ! -e "$W/p.h5" ] || fail "an interrupted write left a target"
no_temp_files "$W"

# A signal as step 3 starts: that step ends, a checkpoint is written, exit 130 (as before).
expect_signal 130 "interrupted at step 3; checkpoint written to $W/c.h5.ckpt" \
  env SYMLEARN_SIGNAL_AT=step:3 "$T" msr-fc $SMALL --steps 10 "$WORK/lc.h5" -o "$W/c.h5"
expect_ok "$T" --resume "$W/c.h5.ckpt" --quiet -o "$W/c.h5"
no_temp_files "$W"

# A signal inside a step that does not end within the grace period (1000 inner steps through
# the autodiff: seconds): the run ends with one line after the grace, writing nothing.
start=$(date +%s)
expect_signal 143 "the current step did not end within 1 s" \
  env SYMLEARN_STOP_GRACE_SECONDS=1 SYMLEARN_SIGNAL_AT=step:1 "$T" msr-fc $SMALL --engine autodiff --inner-steps 1000 --steps 2 --checkpoint-every 1 "$WORK/lc.h5" -o "$W/long.h5"
[ $(( $(date +%s) - start )) -lt 30 ] || fail "the long step was not cut short"
[ ! -e "$W/long.h5" ] && [ ! -e "$W/long.h5.ckpt" ] || fail "a cut step left a model or a checkpoint"
no_temp_files "$W"

# ---- lost output -----------------------------------------------------------------
expect_error_out /dev/full 1 "eval: <stdout>: write failed: No space left on device" "$E" --tasks "$WORK/lc.h5" "$WORK/model.h5"
expect_error_out closed 1 "eval: <stdout>: write failed: Bad file descriptor" "$E" --tasks "$WORK/lc.h5" "$WORK/model.h5"
expect_error_out /dev/full 1 "inspect-symmetry: <stdout>: write failed: No space left on device" "$I" "$WORK/model.h5"
expect_error_out closed 1 "inspect-symmetry: <stdout>: write failed" "$I" --json "$WORK/model.h5"
expect_error_out /dev/full 1 "gen-tasks: <stdout>: write failed: No space left on device" "$G" sum-of-numbers --quiet -o -
expect_error_out /dev/full 1 "eval: <stdout>: write failed" "$E" --help
# An output file on a full device names the system's reason.
expect_error 1 "gen-tasks: /dev/full: write failed: No space left on device" "$G" sum-of-numbers --quiet -o /dev/full

# ---- full disk: the planned size is checked before writing -------------------------
expect_error 1 "gen-tasks: $W/big.h5: needs about .* of disk space but $W has 1.0 kB free" \
  env SYMLEARN_FREE_BYTES_FOR_TESTS=1000 "$G" locally-connected --quiet -o "$W/big.h5"
expect_error 1 "needs about 4.5 TB of disk space" "$G" locally-connected --tasks 1000000000 --quiet -o "$W/big.h5"
[ ! -e "$W/big.h5" ] || fail "a refused write left a file"
no_temp_files "$W"

# ---- garbage models and truths -----------------------------------------------------
"$G" sum-of-numbers --length 3 --quiet -o "$WORK/sum.h5"
"$T" sharing-none --quiet "$WORK/sum.h5" -o "$WORK/none.h5"
"$G" rotated-scrambled --train 64 --test 16 --size 8 --quiet -o "$WORK/img.h5"
"$T" lconv --epochs 1 --quiet "$WORK/img.h5" -o "$WORK/lconv.h5"
$PY - "$WORK" <<'PY'
import h5py, json, numpy as np, shutil, sys
w = sys.argv[1]
def mutate(src, dst, fn):
    shutil.copy(f"{w}/{src}", f"{w}/{dst}")
    with h5py.File(f"{w}/{dst}", "a") as f:
        fn(f)
def replace(path, value):
    def fn(f):
        del f[path]
        f[path] = value
    return fn
def config(change):
    def fn(f):
        c = json.loads(f.attrs["config"])
        change(c)
        f.attrs["config"] = json.dumps(c)
    return fn
U = h5py.File(f"{w}/model.h5")["params/U"][...]
mutate("model.h5", "nan.h5", replace("params/U", np.full_like(U, np.nan)))
mutate("model.h5", "noU.h5", lambda f: f.__delitem__("params/U"))
mutate("lc.h5", "notruth.h5", lambda f: f.__delitem__("truth"))
S = h5py.File(f"{w}/sum.h5")["truth/sharing"][...]
S[0] = 0.5
mutate("sum.h5", "soft.h5", replace("truth/sharing", S))
mutate("model.h5", "support0.h5", config(lambda c: c["training"].update(support=0)))
mutate("model.h5", "support-1.h5", config(lambda c: c["training"].update(support=-1)))
mutate("model.h5", "inner1e9.h5", config(lambda c: c["training"].update(inner_steps=10**9)))
mutate("model.h5", "steps-1.h5", config(lambda c: c.update(steps_done=-1)))
mutate("model.h5", "latent.h5", config(lambda c: c["model"].update(latent=4000, input_dim=4000, output_dim=8)))
mutate("model.h5", "optstep.h5", lambda f: f.attrs.__setitem__("optimizer_step", np.int64(-1)))
mutate("model.h5", "log.h5", replace("log/train_loss", np.zeros(7)))
mutate("lconv.h5", "batch-1.h5", config(lambda c: c.update(batches_done_in_epoch=-1)))
PY
expect_error 2 "inspect-symmetry: $WORK/nan.h5: /params/U contains NaN or Inf" "$I" "$WORK/nan.h5"
expect_error 2 "inspect-symmetry: $WORK/noU.h5: missing /params/U" "$I" "$WORK/noU.h5"
expect_error 2 "inspect-symmetry: $WORK/notruth.h5: holds no /truth/symmetry or /truth/sharing" \
  "$I" --truth "$WORK/notruth.h5" "$WORK/model.h5"
expect_error 2 "inspect-symmetry: $WORK/soft.h5: /truth/sharing row 0 is not one-hot" \
  "$I" --truth "$WORK/soft.h5" "$WORK/none.h5"
expect_error 2 "inspect-symmetry: $WORK/sum.h5: holds a sharing (/truth/sharing) and a msr-fc model has none" \
  "$I" --truth "$WORK/sum.h5" "$WORK/model.h5"
for bad in support0 support-1 inner1e9; do
  expect_error 2 "eval: $WORK/$bad.h5: the training record is invalid" "$E" --tasks "$WORK/lc.h5" "$WORK/$bad.h5"
done
expect_error 2 "eval: $WORK/steps-1.h5: steps_done is negative" "$E" --tasks "$WORK/lc.h5" "$WORK/steps-1.h5"
expect_error 2 "meta-train: $WORK/optstep.h5: its optimizer_step is negative" \
  "$T" --resume "$WORK/optstep.h5" --steps 5 --quiet "$WORK/lc.h5" -o "$W/r.h5"
expect_error 2 "eval: $WORK/log.h5: /log/train_loss holds 7 values for 3 steps done" \
  "$E" --tasks "$WORK/lc.h5" "$WORK/log.h5"
# A config claiming a 32000 x 1 U in a small file: refused at the shape check, nothing allocated from it.
expect_error 2 "eval: $WORK/latent.h5: .*/params/U" "$E" --tasks "$WORK/lc.h5" "$WORK/latent.h5"
expect_error 2 "meta-train: $WORK/batch-1.h5: epochs_done and batches_done_in_epoch must be >= 0" \
  "$T" --resume "$WORK/batch-1.h5" --epochs 2 --quiet "$WORK/img.h5" -o "$W/r.h5"
# prox-regularize: weights that would fill U with NaN; families without symmetry matrices.
for v in nan inf; do
  expect_error 2 "prox-regularize: --group-weight: not a finite number: $v" \
    "$P" --op combined --group-weight $v --lambda 0.1 "$WORK/model.h5" -o "$W/p.h5"
done
expect_error 2 "prox-regularize: --group-weight and --exclusive-weight must be >= 0" \
  "$P" --op combined --group-weight -1 --lambda 0.1 "$WORK/model.h5" -o "$W/p.h5"
expect_error 2 "a lconv model has no symmetry matrices to sparsify (prox-regularize applies to msr-fc, msr-kron" \
  "$P" --lambda 0.1 "$WORK/lconv.h5" -o "$W/p.h5"
expect_error 2 "a sharing-none model has no symmetry matrices to sparsify (prox-regularize applies to msr-fc" \
  "$P" --lambda 0.1 "$WORK/none.h5" -o "$W/p.h5"
no_temp_files "$W"

# ---- options ---------------------------------------------------------------------
M="$T msr-fc $SMALL --steps 2 $WORK/lc.h5 -o $W/o.h5"
expect_error 2 "meta-train: --seed: must not be negative: -1" $M --seed -1
expect_error 2 "meta-train: --seed: out of range: 99999999999999999999" $M --seed 99999999999999999999
expect_error 2 "meta-train: --steps: out of range" $M --steps 99999999999999999999
expect_error 2 "meta-train: --steps: an empty value" $M --steps ""
expect_error 2 "meta-train: --steps: an empty value" $M --steps=
expect_error 2 "meta-train: --u-init-std: not a finite number: inf" $M --u-init-std inf
expect_error 2 "inspect-symmetry: --cos-threshold: not a finite number: nan" "$I" --cos-threshold nan "$WORK/model.h5"
printf 'split = "/test"\nbogus = 4\n' >"$WORK/unknown.toml"
expect_error 2 "eval: $WORK/unknown.toml:2: unknown key 'bogus' (not an option of eval)" \
  "$E" --config "$WORK/unknown.toml" --tasks "$WORK/lc.h5" "$WORK/model.h5"
printf '[msr-fc]\nsteps = 2\nsupport 3\n' >"$WORK/syntax.toml"
expect_error 2 "meta-train: $WORK/syntax.toml:3: cannot parse 'support 3' (expected KEY = VALUE)" \
  "$T" --config "$WORK/syntax.toml" msr-fc $SMALL "$WORK/lc.h5" -o "$W/o.h5"
printf 'steps = 2\n' >"$WORK/top.toml"
expect_error 2 "meta-train: $WORK/top.toml:1: 'steps' is an option of a subcommand: put it in that subcommand's section" \
  "$T" --config "$WORK/top.toml" msr-fc $SMALL "$WORK/lc.h5" -o "$W/o.h5"
expect_error 2 "gen-tasks: $WORK/lc.h5: not a text config file" "$G" --config "$WORK/lc.h5" sum-of-numbers -o "$W/o.h5"
head -c 1000 "$WORK/lc.h5" >"$WORK/cut.toml"  # a truncated binary file
expect_error 2 "gen-tasks: $WORK/cut.toml: not a text config file" "$G" --config "$WORK/cut.toml" sum-of-numbers -o "$W/o.h5"
truncate -s 2M "$WORK/huge.toml"
expect_error 2 "gen-tasks: $WORK/huge.toml: over 1 MiB: not a config file" "$G" --config "$WORK/huge.toml" sum-of-numbers -o "$W/o.h5"
printf '[sum-of-numbers]\nlength = 3\n' >"$WORK/good.toml"
expect_ok "$G" --config "$WORK/good.toml" sum-of-numbers --quiet -o "$W/good.h5"
[ ! -e "$W/o.h5" ] || fail "a refused command wrote its output"

# ---- stdin that is not HDF5 is refused at once, not buffered -------------------------
expect_error 2 "eval: <stdin>: not an HDF5 file (no HDF5 signature)" \
  timeout 20 "$E" --tasks - "$WORK/model.h5" </dev/zero
"$E" --tasks - "$WORK/model.h5" <"$WORK/lc.h5" >/dev/null || fail "a tasks file on stdin was refused"

# ---- stale temporaries of SIGKILLed writers are removed by the next write ----------
dead=.good.h5.tmp.4000000.abcdef  # pid above any pid_max: no such process
touch -d '1 hour ago' "$W/$dead"
touch "$W/.good.h5.tmp.4000001.ghijkl"                    # fresh: kept
touch -d '1 hour ago' "$W/.good.h5.tmp.$$.mnopqr"        # a live writer (this shell): kept
expect_ok "$G" --config "$WORK/good.toml" sum-of-numbers --quiet -o "$W/good.h5"
[ ! -e "$W/$dead" ] || fail "a stale temporary was not removed"
[ -e "$W/.good.h5.tmp.4000001.ghijkl" ] && [ -e "$W/.good.h5.tmp.$$.mnopqr" ] || fail "a live temporary was removed"
rm -f "$W/.good.h5.tmp.4000001.ghijkl" "$W/.good.h5.tmp.$$.mnopqr"
# ---- two writers of one target: it always holds one whole output ------------------
"$G" locally-connected --tasks 400 --seed 1 --quiet -o "$WORK/seed1.h5"
"$G" locally-connected --tasks 400 --seed 2 --quiet -o "$WORK/seed2.h5"
for round in 1 2 3; do
  "$G" locally-connected --tasks 400 --seed 1 --quiet -o "$W/both.h5" &
  "$G" locally-connected --tasks 400 --seed 2 --quiet -o "$W/both.h5" &
  wait
  cmp -s "$W/both.h5" "$WORK/seed1.h5" || cmp -s "$W/both.h5" "$WORK/seed2.h5" ||
    fail "two concurrent writers left a file that is neither output (round $round)"
done
no_temp_files "$W"
echo "test_clean_exits: ok"
