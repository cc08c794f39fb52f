# Generator discovery with a ground truth (Dehmamy et al. 2021, appendix C;
# issue 16): gen-tasks generator-pairs (random white-noise images turned by
# periodic-sinc interpolation, /truth/generator exact), then meta-train
# lie-generator by each method, then inspect-symmetry --truth: |cos| of the
# learned generator with the true one. One markdown table on stdout.
#   make repro-lie-discovery       (a few minutes; resumable per cell)
# Environment: SIZES ("7 20"), SETTINGS ("fixed:1 fixed:5 range:-2,2 range:-5,5"),
#   METHODS ("lstsq-difference lstsq-central spectral als gd"; also spectral-smallest: spectral
#   on the 30 % of pairs moved least), PAIRS_PER_DIM (4),
#   SIGNAL (noise), OUT (out/repro-lie-discovery), RESULTS ($OUT/cells.jsonl), TABLE_ONLY=1.
set -eu
BIN=${BIN:-build/bin}
OUT=${OUT:-out/repro-lie-discovery}
RESULTS=${RESULTS:-$OUT/cells.jsonl}
SIZES=${SIZES:-"7 20"}
SETTINGS=${SETTINGS:-"fixed:1 fixed:5 range:-2,2 range:-5,5"}
METHODS=${METHODS:-"lstsq-difference lstsq-central spectral als gd"}
PAIRS_PER_DIM=${PAIRS_PER_DIM:-4}
SIGNAL=${SIGNAL:-noise}
mkdir -p "$OUT" "$(dirname "$RESULTS")"
touch "$RESULTS"

if [ "${TABLE_ONLY:-0}" != 1 ]; then
  for size in $SIZES; do
    pairs=$((size * size * PAIRS_PER_DIM))
    for setting in $SETTINGS; do
      kind=${setting%%:*} value=${setting#*:}
      if [ "$kind" = fixed ]; then t="--amount $value"; else t="--range=$value"; fi
      data="$OUT/$size-$kind-$value-$SIGNAL-$pairs.h5"
      for method in $METHODS; do
        key="$size $setting $method $pairs $SIGNAL"
        grep -q "\"key\": \"$key\"" "$RESULTS" && continue
        # shellcheck disable=SC2086
        [ -s "$data" ] || "$BIN/gen-tasks" generator-pairs --size "$size" $t --signal "$SIGNAL" --pairs "$pairs" \
          --quiet -o "$data"
        case $method in
          lstsq-*) opts="--method lstsq --estimate ${method#lstsq-}" ;;
          spectral-smallest) opts="--method spectral --keep-smallest 0.3" ;;
          *) opts="--method $method" ;;
        esac
        [ "$kind" = fixed ] && case $method in lstsq-*) opts="$opts --amount $value" ;; esac
        model="$OUT/$size-$kind-$value-$SIGNAL-$pairs-$method.h5"
        # shellcheck disable=SC2086
        "$BIN/meta-train" lie-generator $opts --quiet --json "$data" -o "$model" >"$model.train.json"
        "$BIN/inspect-symmetry" --json --truth "$data" "$model" >"$model.inspect.json"
        "$BIN/eval" --json --tasks "$data" "$model" >"$model.eval.json"
        /usr/bin/python3 - "$key" "$size" "$setting" "$method" "$pairs" "$SIGNAL" "$model" >>"$RESULTS" <<'PY'
import json, sys
key, size, setting, method, pairs, signal, m = sys.argv[1:]
t, i, e = (json.load(open(m + s)) for s in (".train.json", ".inspect.json", ".eval.json"))
print(json.dumps({"key": key, "size": int(size), "setting": setting, "method": method, "pairs": int(pairs),
                  "signal": signal, "abs_cosine": i["abs_cosine"], "skew_share": i["skew_share"],
                  "test_residual": e["first_order_residual"], "seconds": round(t["seconds"], 2)}), flush=True)
PY
        echo "$key done" >&2
      done
    done
  done
fi

/usr/bin/python3 - "$RESULTS" <<'PY'
import json, sys
cells = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# The authors' notebooks (nimadehmamy/L-conv-code, paper-code/C-discover-symmetry): |cos| 0.27 (7x7,
# fixed angle), 0.70 (7x7, angle range, recursive model), 0.12 (20x20).
authors = {(7, "fixed"): "0.27", (7, "range"): "0.70 (recursive model)", (20, "fixed"): "0.12", (20, "range"): "0.12"}
methods = ["lstsq-difference", "lstsq-central", "spectral", "spectral-smallest", "als", "gd"]
print("|cos| of the learned generator with /truth/generator (periodic-sinc rotation, per radian); white-noise images,")
print("pairs as given; seconds of meta-train in brackets. lstsq-difference is the authors' (R - I)/theta;")
print("spectral-smallest fits on the 30 % of pairs moved least.\n")
print("| size | angle (degrees) | pairs | " + " | ".join(methods) + " | authors' notebooks |")
print("|---|---|---|" + "---|" * len(methods) + "---|")
rows = {}
for c in cells:
    rows.setdefault((c["size"], c["setting"], c["pairs"], c["signal"]), {})[c["method"]] = c
def order(k):
    kind, v = k[1].split(":")
    return (k[0], kind != "fixed", abs(float(v.split(",")[-1])))
for k in sorted(rows, key=order):
    size, setting, pairs, signal = k
    kind, v = setting.split(":")
    label = (f"{v} fixed" if kind == "fixed" else f"U({v.replace(',', ', ')}) per pair") + ("" if signal == "noise" else f", {signal}")
    cell = lambda m: f"{rows[k][m]['abs_cosine']:.4f} ({rows[k][m]['seconds']:.1f} s)" if m in rows[k] else "–"
    print(f"| {size}x{size} | {label} | {pairs} | " + " | ".join(cell(m) for m in methods) +
          f" | {authors.get((size, kind), '–')} |")
PY
