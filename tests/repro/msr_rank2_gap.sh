# Where does msr-fc's rank-2 gap to the PyTorch peer come from (issue 14)?
# One rank-2 dataset (gen-tasks seed DATA_SEED, default 7, the paper's sizes), 1000 outer steps,
# training seeds SEEDS, every model scored on all 2000 test tasks:
#   symlearn          msr-fc as shipped (the last 200 training tasks held out for validation)
#   symlearn-noval    --val-tasks 0: trains on all 8000 training tasks, as the peer does
#   symlearn-float64  --precision float64
#   pytorch           the peer's share_fc (--impl batched) on the same file
# One JSON line per finished cell in OUT/results.jsonl (rerunning skips them);
# prints the table of means over seeds.
#   BIN=build/bin PEERS=../shared/peers [DATA_SEED=7] [SEEDS=..] [VARIANTS=..] sh tests/repro/msr_rank2_gap.sh
set -eu
BIN=${BIN:-build/bin}
PEERS=${PEERS:-../shared/peers}
SEEDS=${SEEDS:-"0 1 2 3 4"}
STEPS=${STEPS:-1000}
DATA_SEED=${DATA_SEED:-7}
VARIANTS=${VARIANTS:-"symlearn symlearn-noval symlearn-float64 pytorch"}
OUT=${OUT:-out/repro-rank2-gap}
PY=/usr/bin/python3
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
touch "$RESULTS"
DATA="$OUT/rank2-seed$DATA_SEED.h5"
[ -f "$DATA" ] || "$BIN/gen-tasks" locally-connected --rank 2 --kernel 3 --input-dim 70 --tasks 10000 --samples 20 \
  --seed "$DATA_SEED" --quiet -o "$DATA"

cell() {  # VARIANT SEED
  grep -q "\"variant\": \"$1\", \"seed\": $2,.*\"data_seed\": $DATA_SEED}" "$RESULTS" && return 0
  case $1 in
    pytorch)
      mse=$(OMP_WAIT_POLICY=PASSIVE $PY "$PEERS/pytorch_msr/msr_train.py" --tasks_file "$DATA" --problem rank2 \
        --model share_fc --impl batched --steps "$STEPS" --seed "$2" --threads 1 --eval_every 0 --eval_tasks 2000 |
        sed -n 's/^RESULT //p' | $PY -c "import json,sys; print(json.load(sys.stdin)['test_mse'])") ;;
    *)
      extra=""
      [ "$1" = symlearn-noval ] && extra="--val-tasks 0"
      [ "$1" = symlearn-float64 ] && extra="--precision float64"
      # shellcheck disable=SC2086
      "$BIN/meta-train" msr-fc --latent 6 $extra --steps "$STEPS" --seed "$2" --threads 1 --quiet "$DATA" \
        -o "$OUT/$1-$2-data$DATA_SEED.h5"
      mse=$("$BIN/eval" --tasks "$DATA" --seed "$2" --json "$OUT/$1-$2-data$DATA_SEED.h5" | $PY -c "import json,sys; print(json.load(sys.stdin)['mse'])") ;;
  esac
  echo "{\"variant\": \"$1\", \"seed\": $2, \"steps\": $STEPS, \"test_mse\": $mse, \"data_seed\": $DATA_SEED}" >>"$RESULTS"
  echo "done: $1 seed $2" >&2
}

for seed in $SEEDS; do
  for variant in $VARIANTS; do cell "$variant" "$seed"; done
done

$PY - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("rank-2 meta-test MSE on all 2000 test tasks, 1000 outer steps, mean ± std over training seeds\n")
print("| data seed | variant | seeds | MSE |")
print("|---|---|---|---|")
for d in sorted({r.get("data_seed", 7) for r in rows}):
    for v in ("symlearn", "symlearn-noval", "symlearn-float64", "pytorch"):
        xs = [r["test_mse"] for r in rows if r["variant"] == v and r.get("data_seed", 7) == d]
        if xs:
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            print(f"| {d} | {v} | {len(xs)} | {statistics.mean(xs):.3f} ± {sd:.3f} |")
PY
