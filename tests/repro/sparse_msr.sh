# Checks the claim of "Meta-Learning Symmetries with sparse reparametrization"
# (its Table I): with few training tasks, msr-fc trained with an exclusive-lasso
# proximal step on U (grouped by input feature) is sparser, closer to the true
# locally connected band and has a lower test loss than without.
#
# For each (rank, kernel) and seed: one dataset, 70 -> 70-s+1, 1000 training
# tasks and 500 test tasks of 20 examples (the same test tasks for every
# training-set size). For N training tasks, meta-train uses the first N, of
# which the last N/5 (at least 2) are a validation split; lambda is chosen on
# that split (lowest final validation loss), never on the test tasks.
#   make repro-sparse [STEPS=2000]   (env: SEEDS, DATASETS, COUNTS, LAMBDAS, OPS="exclusive group")
set -eu
BIN=${BIN:-build/bin}
STEPS=${STEPS:-2000}
SEEDS=${SEEDS:-"0 1 2"}
DATASETS=${DATASETS:-"1,3 2,3 5,3 2,5 5,5"}
COUNTS=${COUNTS:-"20 50 100 1000"}
LAMBDAS=${LAMBDAS:-"0.03 0.1 0.3"}              # exclusive (and combined)
GROUP_LAMBDAS=${GROUP_LAMBDAS:-"0.1 0.3 1 3 10 30"}  # group lasso acts on norms: a wider range
OPS=${OPS:-"exclusive"}
OUT=${OUT:-out/repro-sparse}
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
touch "$RESULTS"

run() {  # run NAME DATA N SEED ARGS...: train, evaluate, append one JSON line
  name=$1 data=$2 n=$3 seed=$4
  shift 4
  key="$name-steps$STEPS"
  grep -q "\"key\": \"$key\"" "$RESULTS" && return 0  # already done (the script resumes)
  val=$((n / 5)); [ "$val" -ge 2 ] || val=2
  batch=$((n - val)); [ "$batch" -le 32 ] || batch=32
  "$BIN/meta-train" msr-fc --steps "$STEPS" --seed "$seed" --train-tasks "$n" --val-tasks "$val" \
    --val-every "$STEPS" --meta-batch "$batch" --quiet "$@" "$data" -o "$OUT/$key.h5"
  "$BIN/eval" --tasks "$data" --json "$OUT/$key.h5" >"$OUT/$key.eval.json"
  /usr/bin/python3 - "$OUT/$key.h5" "$OUT/$key.eval.json" "$key" >>"$RESULTS" <<'PY'
import h5py, json, sys
import numpy as np
f = h5py.File(sys.argv[1], "r")
cfg = json.loads(f.attrs["config"])
m, n = cfg["model"]["output_dim"], cfg["model"]["input_dim"]
s = n - m + 1
u = f["params/U"][()]
mass = np.abs(u).sum(axis=1)
i, j = np.arange(m * n) % m, np.arange(m * n) // m
band = (j - i >= 0) & (j - i < s)
prox = cfg["training"]["prox"]
print(json.dumps({"key": sys.argv[3], "steps": cfg["steps_done"], "tasks": cfg["training"]["train_tasks"],
                  "seed": cfg["seed"], "op": prox["op"] if prox else "none",
                  "lambda": prox["lambda"] if prox else 0.0, "val_loss": float(f["log/val_loss"][-1]),
                  "test_mse": json.load(open(sys.argv[2]))["mse"],
                  "sparsity": float((np.abs(u) <= 1e-6 * np.abs(u).max()).mean()),
                  "band_mass": float(mass[band].sum() / mass.sum()) if mass.sum() > 0 else 0.0,  # U may be all zero
                  "data": cfg["dataset"]["path"]}))
PY
}

for d in $DATASETS; do
  rank=${d%,*} kernel=${d#*,}
  for seed in $SEEDS; do
    data="$OUT/rank${rank}-kernel${kernel}-seed$seed.h5"
    [ -f "$data" ] || "$BIN/gen-tasks" locally-connected --rank "$rank" --kernel "$kernel" --tasks 1500 \
      --test-fraction 0.3333 --seed "$seed" --quiet -o "$data"
    for n in $COUNTS; do
      base="r${rank}k${kernel}-n$n-s$seed"
      run "$base-none" "$data" "$n" "$seed"
      for op in $OPS; do
        lams=$LAMBDAS
        [ "$op" = group ] && lams=$GROUP_LAMBDAS
        for lam in $lams; do
          run "$base-$op$lam" "$data" "$n" "$seed" --prox "$op" --prox-lambda "$lam" --prox-groups input
        done
      done
      echo "done: rank $rank kernel $kernel, $n tasks, seed $seed" >&2
    done
  done
done

/usr/bin/python3 - "$RESULTS" "$STEPS" "$DATASETS" "$COUNTS" "$OPS" <<'PY'
import json, sys, math
rows = [json.loads(l) for l in open(sys.argv[1])]
steps = int(sys.argv[2])
datasets = [tuple(map(int, d.split(","))) for d in sys.argv[3].split()]
counts = [int(c) for c in sys.argv[4].split()]
ops = sys.argv[5].split()
rows = [r for r in rows if r["steps"] == steps]
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}

def ci(v):
    n = len(v)
    mean = sum(v) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1))
    return mean, T975.get(n - 1, 1.96) * sd / math.sqrt(n)

def pick(rank, kernel, n, op):
    """Per seed: the run with the lowest validation loss among op's lambdas."""
    out = {}
    for r in rows:
        if not r["key"].startswith(f"r{rank}k{kernel}-n{n}-") or r["op"] != op:
            continue
        if r["seed"] not in out or r["val_loss"] < out[r["seed"]]["val_loss"]:
            out[r["seed"]] = r
    return out

def cell(v, digits=3):
    m, h = ci(v)
    return f"{m:.{digits}f} ± {h:.{digits}f}" if not math.isnan(h) else f"{m:.{digits}f}"

def table(title, op, describe):
    """One markdown table: a row per dataset, a cell per task count, from
    describe(base, reg, seeds) over the seeds both runs share."""
    print(title)
    print("| data | " + " | ".join(f"{n} tasks" for n in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for rank, kernel in datasets:
        cells = []
        for n in counts:
            base, reg = pick(rank, kernel, n, "none"), pick(rank, kernel, n, op)
            seeds = sorted(set(base) & set(reg))
            cells.append(describe(base, reg, seeds) if seeds else "–")
        print(f"| rank{rank} kernel{kernel} | " + " | ".join(cells) + " |")

def losses(base, reg, seeds):
    wins = sum(reg[s]["test_mse"] < base[s]["test_mse"] for s in seeds)
    return (f"{cell([base[s]['test_mse'] for s in seeds])} / {cell([reg[s]['test_mse'] for s in seeds])}"
            f" ({wins}/{len(seeds)})")

def structure(base, reg, seeds):
    mean = lambda d, k: sum(d[s][k] for s in seeds) / len(seeds)
    lams = ",".join(f"{reg[s]['lambda']:g}" for s in seeds)
    return (f"{mean(base, 'sparsity'):.2f} / {mean(reg, 'sparsity'):.2f}; band {mean(base, 'band_mass'):.2f} / "
            f"{mean(reg, 'band_mass'):.2f} (λ {lams})")

for op in ops:
    table(f"\n{steps} outer steps; test MSE (mean ± 95% CI over seeds), without / with {op} sparsity "
          "(grouped by input feature, lambda chosen on the validation split); wins = seeds where with < without\n",
          op, losses)
    table(f"\nSparsity of U (share of |u| <= 1e-6 max|u|) and share of U's L1 mass on the true band, "
          f"without / with {op}\n", op, structure)
PY
