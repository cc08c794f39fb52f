# Linear Group Networks ("Learning Linear Groups in Neural Networks",
# Theodosis, Helwani, Ba 2023) on Fashion-MNIST: the paper's classifier
# (4 unfolded FISTA layers, 5 groups of 4 filters, 6x6 kernels, mu = 0.001)
# against ablations at the same budget: mu = 0, the singular-value loss
# (mu = 0.01), an unstructured unfolded network with 20 free filters per
# layer; then the reconstruction variant (mu = 0.01). Per cell: /test accuracy
# (or MSE), the median ||A A~ - I||_F / 6, the share of actions whose
# structure scores are > 5 standard deviations from random unit-norm
# matrices, and the mean block participation ("concentrated blocks").
#
#   make repro-lgn      (hours at the full budget; resumable: one jsonl line per finished cell in RESULTS)
# Environment: CELLS ("lgn lgn-mu0 lgn-singular lgn-free lgn-recon linear"), EPOCHS (20), TRAIN (training images,
#   default all 60000), SEEDS ("0"), JOBS (parallel runs, nproc), OUT (out/repro-lgn), RESULTS ($OUT/cells.jsonl),
#   TABLE_ONLY=1 (print only). Needs dataset-fashion-mnist (cmake/install-deps.sh --with-fashion-mnist).
set -eu
BIN=${BIN:-build/bin}
OUT=${OUT:-out/repro-lgn}
RESULTS=${RESULTS:-$OUT/cells.jsonl}
CELLS=${CELLS:-"lgn lgn-mu0 lgn-singular lgn-free lgn-recon linear"}
EPOCHS=${EPOCHS:-20}
TRAIN=${TRAIN:-}
SEEDS=${SEEDS:-0}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$OUT" "$(dirname "$RESULTS")"
touch "$RESULTS"
export BIN OUT RESULTS EPOCHS TRAIN
DATA="$OUT/fashion${TRAIN:+-$TRAIN}.h5"

one() {  # one CELL SEED
  cell=$1 seed=$2
  key="$cell $seed $EPOCHS${TRAIN:+ $TRAIN}"
  grep -q "\"key\": \"$key\"" "$RESULTS" && return 0
  if [ "$cell" = linear ]; then  # logistic regression on the same file (PyTorch, L-BFGS): the floor to beat
    /usr/bin/python3 "$(dirname "$0")/lgn_linear.py" "$DATA" | /usr/bin/python3 -c "
import json, sys; c = json.load(sys.stdin)
print(json.dumps({'key': '$key', 'cell': 'linear', 'seed': $seed, 'epochs': 0, 'parameters': 7850, **c}))" >>"$RESULTS"
    echo "$key: done" >&2
    return 0
  fi
  case $cell in
    lgn) args="lgn --mu 0.001" ;;
    lgn-mu0) args="lgn --mu 0" ;;
    lgn-singular) args="lgn --inverse-loss singular --mu 0.01" ;;
    lgn-free) args="lgn-free" ;;
    lgn-recon) args="lgn-recon --mu 0.01" ;;
    *) echo "repro-lgn: unknown cell $cell" >&2; return 1 ;;
  esac
  m="$OUT/$cell-s$seed-e$EPOCHS${TRAIN:+-$TRAIN}.h5"
  start=$(date +%s)
  # A killed run resumes from its checkpoint (written after every epoch).
  resume=""
  [ -s "$m.ckpt" ] && resume="--resume $m.ckpt"
  # shellcheck disable=SC2086
  "$BIN/meta-train" $args --epochs "$EPOCHS" --seed "$seed" --quiet --json $resume "$DATA" -o "$m" >"$m.train.json"
  wall=$(( $(date +%s) - start ))
  "$BIN/eval" --tasks "$DATA" "$m" --json >"$m.eval.json"
  "$BIN/inspect-symmetry" "$m" --json >"$m.inspect.json"
  /usr/bin/python3 - "$m" "$key" "$cell" "$seed" "$wall" >>"$RESULTS" <<'PY'
import json, sys
m = sys.argv[1]
t, e, i = (json.load(open(m + s)) for s in (".train.json", ".eval.json", ".inspect.json"))
cell = {"key": sys.argv[2], "cell": sys.argv[3], "seed": int(sys.argv[4]), "epochs": t["epochs"],
        "train_examples": t["train_examples"], "parameters": t["parameters"],
        "train_seconds": round(t["train_seconds"], 1), "wall_seconds": int(sys.argv[5])}
for k in ("accuracy", "mse", "median_inverse_residual"):
    if k in e: cell["test_" + k if k != "median_inverse_residual" else k] = e[k]
if "actions" in i:
    a = i["actions"]
    cell["structured_share"] = i["structured_share"]
    cell["block_participation_mean"] = sum(x["scores"]["block_participation"] for x in a) / len(a)
    cell["block_participation_z_mean"] = sum(x["z"]["block_participation"] for x in a) / len(a)
    cell["skew_share_mean"] = sum(x["scores"]["skew_share"] for x in a) / len(a)
    cell["closure_mean"] = sum(x["scores"]["closure"] for x in a) / len(a)
    cell["sigma_min_mean"] = sum(x["scores"]["sigma_min"] for x in a) / len(a)
    cell["best_template_abs_cos_max"] = max(x["best_template_abs_cos"] for x in a)
    cell["orbit_norm_last_median"] = sorted(x["orbit_norms"][-1] for x in a)[len(a) // 2]
print(json.dumps(cell), flush=True)
PY
  echo "$key: done in ${wall}s" >&2
}

if [ "${1:-}" = "--one" ]; then
  one "$2" "$3"
  exit 0
fi

start=$(date +%s)
if [ "${TABLE_ONLY:-0}" != 1 ]; then
  [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "repro-lgn: Fashion-MNIST is not installed (cmake/install-deps.sh --with-fashion-mnist)" >&2; exit 1; }
  if [ ! -s "$DATA" ]; then
    # shellcheck disable=SC2086
    "$BIN/gen-tasks" rotated-scrambled --source fashion-mnist ${TRAIN:+--train $TRAIN} --seed 0 --quiet \
      -o "$DATA.tmp" && mv "$DATA.tmp" "$DATA"
  fi
  for c in $CELLS; do for s in $SEEDS; do echo "$c $s"; done; done | xargs -P "$JOBS" -n 2 sh "$0" --one
fi
secs=$(( $(date +%s) - start ))

/usr/bin/python3 - "$RESULTS" "$secs" <<'PY'
import json, sys
cells = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"LGN on Fashion-MNIST (official 10000 test images); this run {sys.argv[2]} s; {len(cells)} cells in {sys.argv[1]}.")
print("inverse: median ||A A~ - I||_F / 6 over the 20 actions; structured: share of actions with a structure score "
      "|z| > 5 vs random unit-norm matrices; block PR: mean block participation (1 = even, 1/36 = one block), its mean z.\n")
print("| cell | seed | train images | epochs | parameters | test accuracy / MSE | inverse | structured | block PR (z) | skew share | closure | orbit ‖A³b‖/‖b‖ (median) | train s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
order = ["lgn", "lgn-mu0", "lgn-singular", "lgn-free", "lgn-recon", "linear"]
for c in sorted(cells, key=lambda c: (order.index(c["cell"]) if c["cell"] in order else 9, c["seed"])):
    acc = f"{c['test_accuracy']:.4f}" if "test_accuracy" in c else f"MSE {c['test_mse']:.4f}"
    f = lambda k, p=".3f": format(c[k], p) if k in c else "—"
    bp = f"{c['block_participation_mean']:.3f} ({c['block_participation_z_mean']:+.1f})" if "block_participation_mean" in c else "—"
    print(f"| {c['cell']} | {c['seed']} | {c['train_examples']} | {c['epochs'] or 'L-BFGS'} | {c['parameters']} | {acc} | "
          f"{f('median_inverse_residual')} | {f('structured_share', '.2f')} | {bp} | {f('skew_share_mean')} | "
          f"{f('closure_mean')} | {f('orbit_norm_last_median')} | {c['train_seconds']} |")
PY
