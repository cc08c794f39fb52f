# L-conv on plain, rotated and rotated+scrambled images ("Automatic Symmetry
# Discovery with Lie Algebra Convolutional Network", Dehmamy et al. 2021):
# lconv, cnn, fc, fc-shallow and lconv-random trained through the same code on
# the same files. One markdown table on stdout (progress on stderr).
#
#   make repro-lconv            (PROTOCOL=dehmamy2021: full Fashion-MNIST, 30 epochs; hours, resumable)
#   make repro-lconv PROTOCOL=symlearn   (the older quick table: builtin glyphs and a Fashion-MNIST subset)
#
# PROTOCOL=dehmamy2021 (the authors' code): gen-tasks --protocol dehmamy2021
# (cubic rotation, pixels in [-0.5, 0.5], the last 20 % of the 60000 training
# images as /val) and meta-train --protocol dehmamy2021 (Glorot init, RMSprop,
# batch 32, valid-padding CNN, the authors' FC); each cell reports the best
# epoch's /val accuracy (the authors' number), /test accuracy at that epoch and
# at the last, and for L-conv models what inspect-symmetry finds in the
# generators. Resumable: each finished cell is one line of RESULTS (jsonl),
# skipped when the script runs again; the table is printed from RESULTS.
# Environment: PROTOCOL, EPOCHS (30), VARIANTS ("rotated+scrambled plain rotated"),
#   MODELS ("lconv cnn fc fc-shallow lconv-random"), SEEDS ("0"), EXTRA_SEEDS ("1":
#   more seeds for lconv and cnn on rotated+scrambled), JOBS (parallel runs, nproc),
#   OUT (work dir, out/repro-lconv-$PROTOCOL), RESULTS ($OUT/cells.jsonl),
#   TRAIN (training images incl. /val; default all 60000), TABLE_ONLY=1 (print only).
# Fashion-MNIST needs the Debian package dataset-fashion-mnist
# (cmake/install-deps.sh --with-fashion-mnist).
set -eu
BIN=${BIN:-build/bin}
PROTOCOL=${PROTOCOL:-dehmamy2021}
if [ "$PROTOCOL" = symlearn ]; then exec sh "$(dirname "$0")/lconv_quick.sh"; fi
OUT=${OUT:-out/repro-lconv-$PROTOCOL}
RESULTS=${RESULTS:-$OUT/cells.jsonl}
EPOCHS=${EPOCHS:-30}
VARIANTS=${VARIANTS:-"rotated+scrambled plain rotated"}
MODELS=${MODELS:-"lconv cnn fc fc-shallow lconv-random"}
SEEDS=${SEEDS:-0}
EXTRA_SEEDS=${EXTRA_SEEDS-1}
JOBS=${JOBS:-$(nproc)}
TRAIN=${TRAIN:-}
mkdir -p "$OUT" "$(dirname "$RESULTS")"
touch "$RESULTS"
export BIN PROTOCOL OUT RESULTS EPOCHS TRAIN

data() {  # data VARIANT: the tasks file (made once; data seed 0 for every model seed)
  case $1 in plain) flags="" ;; rotated) flags="--rotate" ;; *) flags="--rotate --scramble" ;; esac
  f="$OUT/fashion-$1${TRAIN:+-$TRAIN}.h5"
  if [ ! -s "$f" ]; then
    # shellcheck disable=SC2086
    "$BIN/gen-tasks" rotated-scrambled --source fashion-mnist ${TRAIN:+--train $TRAIN} --protocol "$PROTOCOL" $flags \
      --seed 0 --quiet -o "$f.tmp" && mv "$f.tmp" "$f"
  fi
  echo "$f"
}

one() {  # one VARIANT MODEL SEED: train, record one line of RESULTS
  variant=$1 model=$2 seed=$3
  key="$variant $model $seed $EPOCHS${TRAIN:+ $TRAIN}"
  grep -q "\"key\": \"$key\"" "$RESULTS" && return 0
  tasks=$(data "$variant")
  m="$OUT/$variant-$model-s$seed-e$EPOCHS.h5"
  start=$(date +%s)
  "$BIN/meta-train" "$model" --protocol "$PROTOCOL" --epochs "$EPOCHS" --seed "$seed" --threads 1 --quiet --json \
    "$tasks" -o "$m" >"$m.train.json"
  wall=$(( $(date +%s) - start ))
  insp=/dev/null
  case $model in lconv*) insp="$m.inspect.json"; "$BIN/inspect-symmetry" --json --truth "$tasks" "$m" >"$insp" ;; esac
  /usr/bin/python3 - "$m.train.json" "$insp" "$key" "$variant" "$model" "$seed" "$wall" >>"$RESULTS" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
cell = {"key": sys.argv[3], "variant": sys.argv[4], "model": sys.argv[5], "seed": int(sys.argv[6]),
        "epochs": t["epochs"], "parameters": t["trainable_parameters"], "train_examples": t["train_examples"],
        "best_val_accuracy": t["best_val_accuracy"], "best_epoch": t["best_epoch"],
        "test_accuracy_at_best_epoch": t["test_accuracy_at_best_epoch"], "final_test_accuracy": t["final_test_accuracy"],
        "train_seconds": round(t["train_seconds"], 1), "wall_seconds": int(sys.argv[7])}
if sys.argv[2] != "/dev/null":
    r = json.load(open(sys.argv[2]))
    g = r["layers"][0]["per_generator"]
    mean = lambda k: sum(x[k] for x in g) / len(g)
    cell["generators"] = {"locality": mean("locality"), "locality_random": r["locality_random_baseline"],
                          "shift_span": mean("shift_span"), "covariance_skew_share": mean("covariance_skew_share"),
                          "image_coordinates": r["image_coordinates"]}
print(json.dumps(cell), flush=True)
PY
  echo "$key: done in ${wall}s" >&2
}

if [ "${1:-}" = "--one" ]; then
  one "$2" "$3" "$4"
  exit 0
fi

start=$(date +%s)
if [ "${TABLE_ONLY:-0}" != 1 ]; then
  [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
    { echo "repro-lconv: Fashion-MNIST is not installed (cmake/install-deps.sh --with-fashion-mnist)" >&2; exit 1; }
  for v in $VARIANTS; do data "$v" >/dev/null; done  # made once, before runs share them
  {
    for v in $VARIANTS; do for m in $MODELS; do for s in $SEEDS; do echo "$v $m $s"; done; done; done
    for s in $EXTRA_SEEDS; do for m in lconv cnn; do echo "rotated+scrambled $m $s"; done; done
  } | xargs -P "$JOBS" -n 3 sh "$0" --one
fi
secs=$(( $(date +%s) - start ))

/usr/bin/python3 - "$RESULTS" "$secs" <<'PY'
import json, math, sys
cells = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"Protocol dehmamy2021, Fashion-MNIST; this run {int(sys.argv[2])} s; {len(cells)} cells in {sys.argv[1]}.")
print("Accuracy: best epoch's /val accuracy (the authors' metric), /test at that epoch, /test after the last epoch;")
print("mean over seeds (± half the range when 2 seeds). Generators (L-conv): locality (share of |L|^2 on pixel pairs")
print("<= 1 step apart in the unscrambled image; a random matrix's in brackets) and shift-span share;")
print("s/epoch includes the per-epoch /val and /test evaluation; wall s per cell: each seed's whole run.\n")
print("| variant | model | seeds | epochs | parameters | best val acc | test acc (best epoch) | test acc (last) | s/epoch | wall s per cell | generators: locality (random) / shift-span |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
order_v = ["plain", "rotated", "rotated+scrambled"]
order_m = ["lconv", "cnn", "fc", "fc-shallow", "lconv-random"]
groups = {}
for c in cells:
    groups.setdefault((c["variant"], c["model"], c["epochs"]), []).append(c)
def fmt(v):
    m = sum(v) / len(v)
    return f"{m:.4f}" + (f" ± {(max(v) - min(v)) / 2:.4f}" if len(v) > 1 else "")
for (v, m, e) in sorted(groups, key=lambda k: (order_v.index(k[0]) if k[0] in order_v else 9,
                                               order_m.index(k[1]) if k[1] in order_m else 9, k[2])):
    g = groups[(v, m, e)]
    gen = "–"
    if "generators" in g[0]:
        q = g[0]["generators"]
        gen = f"{sum(x['generators']['locality'] for x in g) / len(g):.4f} ({q['locality_random']:.4f}) / " \
              f"{sum(x['generators']['shift_span'] for x in g) / len(g):.4f}"
    spe = sum(c["train_seconds"] for c in g) / len(g) / e
    print(f"| {v} | {m} | {len(g)} | {e} | {g[0]['parameters']} | {fmt([c['best_val_accuracy'] for c in g])} | "
          f"{fmt([c['test_accuracy_at_best_epoch'] for c in g])} | {fmt([c['final_test_accuracy'] for c in g])} | "
          f"{spe:.1f} | {' / '.join(str(c['wall_seconds']) for c in g)} | {gen} |")
PY
