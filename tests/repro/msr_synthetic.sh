# Reproduces the synthetic experiment of "Meta-Learning Symmetries by
# Reparameterization" (Zhou, Knowles, Finn, ICLR 2021): rank 1, 2 and 5 data
# (70 -> 68, kernel 3, 10000 tasks x 20 examples, last 20% for test); msr-fc
# and the MAML baselines trained for STEPS outer steps; meta-test MSE +- 95% CI
# over 300 test tasks. msr-fc uses the paper's latent sizes k = 3, 6, 30 for
# rank 1, 2, 5 (the tool's default, kernel x rank, would give 15 for rank 5).
# Prints one markdown table. Finished cells are kept (rerunning resumes).
#   make repro-msr [STEPS=1000] [SEED=0]   (env: MODELS, among them msr-fc-ridge and
#   msr-kron-ridge = --inner-solver ridge, and pytorch = the PyTorch peer's share_fc
#   (PEERS/pytorch_msr, --impl batched) on the same files, when python3-torch is
#   installed; PRECISION = float32 | float64 for the fused kernels; default: the
#   tool's, float32)
set -eu
BIN=${BIN:-build/bin}
STEPS=${STEPS:-1000}
SEED=${SEED:-0}
THREADS=${THREADS:-0}
OUT=${OUT:-out/repro-msr}
PEERS=${PEERS:-../shared/peers}
PY=/usr/bin/python3
if [ -z "${MODELS:-}" ]; then
  MODELS="msr-fc msr-fc-ridge maml-fc maml-lc maml-conv"
  [ -f "$PEERS/pytorch_msr/msr_train.py" ] && $PY -c 'import torch' 2>/dev/null && MODELS="$MODELS pytorch"
fi
PRECISION=${PRECISION:-}
mkdir -p "$OUT"

for rank in 1 2 5; do
  [ -f "$OUT/rank$rank.h5" ] ||
    "$BIN/gen-tasks" locally-connected --rank "$rank" --kernel 3 --input-dim 70 --tasks 10000 --samples 20 \
      --seed "$SEED" --quiet -o "$OUT/rank$rank.h5"
done

for model in $MODELS; do
  for rank in 1 2 5; do
    m="$OUT/$model-rank$rank-steps$STEPS${PRECISION:+-$PRECISION}.h5"
    [ -s "$m.eval.json" ] && continue  # done in an earlier run
    if [ "$model" = pytorch ]; then
      # The peer scores its own fixed support/query split of 300 test tasks;
      # its RESULT line carries test_mse, test_ci95 and steps_per_sec.
      OMP_WAIT_POLICY=PASSIVE $PY "$PEERS/pytorch_msr/msr_train.py" --tasks_file "$OUT/rank$rank.h5" \
        --problem "rank$rank" --model share_fc --impl batched --steps "$STEPS" --seed "$SEED" --threads 1 \
        --eval_every 0 --eval_tasks 300 ${PRECISION:+--dtype $PRECISION} | sed -n 's/^RESULT //p' >"$m.peer.json"
      $PY -c "import json,sys; r=json.load(open(sys.argv[1])); json.dump({'mse': r['test_mse'], 'ci95': r['test_ci95']}, open(sys.argv[2], 'w')); json.dump({'steps_per_second': r['train_steps_per_sec']}, open(sys.argv[3], 'w'))" \
        "$m.peer.json" "$m.train.json.tmp" "$m.train.json"
      mv "$m.train.json.tmp" "$m.eval.json"
      echo "trained the PyTorch peer on rank $rank" >&2
      continue
    fi
    # msr-fc-ridge, msr-kron-ridge: with the ridge inner solver (issue 14).
    tool_model=${model%-ridge} solver=""
    [ "$tool_model" != "$model" ] && solver="--inner-solver ridge"
    latent=""
    if [ "$tool_model" = msr-fc ]; then
      case $rank in 1) latent="--latent 3" ;; 2) latent="--latent 6" ;; 5) latent="--latent 30" ;; esac
    fi
    precision=""
    case $tool_model in msr-fc | msr-kron | maml-conv) [ -n "$PRECISION" ] && precision="--precision $PRECISION" ;; esac
    # shellcheck disable=SC2086
    "$BIN/meta-train" "$tool_model" $solver $latent $precision --steps "$STEPS" --seed "$SEED" --threads "$THREADS" --quiet --json \
      "$OUT/rank$rank.h5" -o "$m" >"$m.train.json"
    "$BIN/eval" --tasks "$OUT/rank$rank.h5" --limit 300 --seed "$SEED" --json "$m" >"$m.eval.json"
    echo "trained $model on rank $rank" >&2
  done
done

$PY - "$OUT" "$STEPS" "$PRECISION" $MODELS <<'PY'
import json, sys
out, steps, precision, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
suffix = f"-{precision}" if precision else ""
print(f"meta-test MSE ± 95% CI over 300 test tasks, {steps} outer steps{', ' + precision if precision else ''}\n")
print("| model | rank 1 | rank 2 | rank 5 | steps/s (rank 1) |")
print("|---|---|---|---|---|")
for model in models:
    cells, speed = [], ""
    for rank in (1, 2, 5):
        base = f"{out}/{model}-rank{rank}-steps{steps}{suffix}.h5"
        e = json.load(open(base + ".eval.json"))
        cells.append(f"{e['mse']:.3f} ± {e['ci95']:.3f}")
        if rank == 1:
            speed = f"{json.load(open(base + '.train.json'))['steps_per_second']:.0f}"
    print(f"| {model} | " + " | ".join(cells) + f" | {speed} |")
PY
