#!/bin/sh
# Learned parameter sharing on sum-of-numbers (Yeh et al., AISTATS 2022):
# for lengths L and ranks 1 and 2, over seeds, `sharing` against the oracle
# sharing, no sharing and Deep Sets (sharing-all); test MAE and the partition
# distance of each learned sharing to the truth, one markdown table.
# Usage: BIN=build/bin sh tests/repro/sharing_sum.sh   (make repro-sharing)
# Environment: LENGTHS ("2 4 6 8 10"), RANKS ("1 2"), SEEDS ("0 1 2 3 4"),
#              PROTOCOL (symlearn | yeh2022: the original's, for all four models),
#              JOBS (parallel runs, default nproc), OUT (work dir, default out/repro-sharing[-yeh2022]),
#              EXTRA (more meta-train options for `sharing`), MODELS (default: sharing-refine
#              [yeh2022 only: `sharing $REFINE`, REFINE default "--refine --restarts 1"],
#              sharing and the three baselines), TABLE_ONLY=1 (print the
#              table of the cells finished so far, run nothing).
# Resumable: each finished (L, rank, seed, model) cell is kept in OUT and skipped when rerun.
set -eu
: "${BIN:?BIN must point at the built tools}"
LENGTHS=${LENGTHS:-"2 4 6 8 10"}
RANKS=${RANKS:-"1 2"}
SEEDS=${SEEDS:-"0 1 2 3 4"}
JOBS=${JOBS:-$(nproc)}
PROTOCOL=${PROTOCOL:-symlearn}
if [ "$PROTOCOL" = symlearn ]; then OUT=${OUT:-out/repro-sharing}; else OUT=${OUT:-out/repro-sharing-$PROTOCOL}; fi
EXTRA=${EXTRA:-}
# sharing-refine: `sharing $REFINE` (one start, then the merge/split stage), yeh2022 only.
REFINE=${REFINE:-"--refine --restarts 1"}
if [ "$PROTOCOL" = yeh2022 ]; then MODELS=${MODELS:-"sharing-refine sharing sharing-oracle sharing-none sharing-all"}
else MODELS=${MODELS:-"sharing sharing-oracle sharing-none sharing-all"}; fi
mkdir -p "$OUT"
start=$(date +%s)

one() {  # one() L RANK SEED: data, four models, their evaluations
  L=$1 R=$2 S=$3
  d="$OUT/L${L}-r${R}-s${S}"
  for m in $MODELS; do
    [ -s "$d.$m.json" ] && continue  # finished in an earlier run
    [ -s "$d.h5" ] || "$BIN"/gen-tasks sum-of-numbers --length "$L" --rank "$R" --noise 0.5 --seed "$S" --quiet -o "$d.h5"
    extra="--protocol $PROTOCOL"
    kind=$m
    [ "$m" = sharing ] && extra="$extra $EXTRA"
    [ "$m" = sharing-refine ] && kind=sharing extra="$extra $REFINE"
    # shellcheck disable=SC2086
    "$BIN"/meta-train "$kind" --seed "$S" --threads 1 --quiet --json $extra "$d.h5" -o "$d.$m.h5" >"$d.$m.train"
    "$BIN"/eval --json --tasks "$d.h5" "$d.$m.h5" >"$d.$m.json.tmp"
    /usr/bin/python3 -c "import json,sys; e=json.load(open(sys.argv[1])); e['train_seconds']=json.load(open(sys.argv[2])).get('seconds'); json.dump(e, open(sys.argv[3], 'w'))" \
      "$d.$m.json.tmp" "$d.$m.train" "$d.$m.json"
    rm -f "$d.$m.json.tmp" "$d.$m.train" "$d.$m.h5"
  done
  rm -f "$d.h5"
  echo "L=$L rank=$R seed=$S done" >&2
}

# The script runs one (L, rank, seed) itself when called as `sh sharing_sum.sh --one L RANK SEED`.
if [ "${1:-}" = "--one" ]; then
  one "$2" "$3" "$4"
  exit 0
fi
export BIN OUT EXTRA PROTOCOL MODELS REFINE
[ "${TABLE_ONLY:-0}" = 1 ] || for L in $LENGTHS; do for R in $RANKS; do for S in $SEEDS; do echo "$L $R $S"; done; done; done |
  xargs -P "$JOBS" -n 3 sh "$0" --one
secs=$(( $(date +%s) - start ))

/usr/bin/python3 - "$OUT" "$secs" "$SEEDS" "$PROTOCOL" <<'PY'
import glob, json, math, os, sys
out, secs, seeds, protocol = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
rows = {}
for f in glob.glob(os.path.join(out, "*.json")):
    base = os.path.basename(f)[:-5]
    key, model = base.split(".", 1)
    L, r, s = key.split("-")
    e = json.load(open(f))
    e["seed"] = int(s[1:])
    rows.setdefault((int(L[1:]), int(r[1:]), model), []).append(e)
T = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
def ci(v):
    n = len(v); m = sum(v) / n
    if n < 2: return m, float("nan")
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (n - 1))
    return m, T.get(n, 1.96) * sd / math.sqrt(n)
learned = [m for m in ("sharing", "sharing-refine") if any(k[2] == m for k in rows)]
fixed = ["sharing-oracle", "sharing-none", "sharing-all"]
names = {"sharing": protocol, "sharing-refine": "refined"}
print(f"Protocol {protocol}. Test MAE (mean ± 95% CI over the seeds finished); for the learned sharings also the"
      f" partition distance to the truth (mean, and seeds where it is 0), the ratio of their mean MAE to the oracle's (same seeds)"
      f" and their mean training time. This run: {secs} s.\n")
head = ["L", "rank", "seeds"]
for m in learned:
    head += [f"{names[m]}: {c}" for c in ("MAE", "partition distance", "÷ oracle", "s/run")]
head += ["oracle", "none", "all (Deep Sets)"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
def mean(v): return sum(v) / len(v)
for (L, r) in sorted({(k[0], k[1]) for k in rows}):
    oracle = {x["seed"]: x["mae"] for x in rows.get((L, r, "sharing-oracle"), [])}
    seeds = max(len(rows.get((L, r, m), [])) for m in learned + fixed)
    cells = [str(L), str(r), str(seeds)]
    for m in learned + fixed:
        res = rows.get((L, r, m), [])
        if not res:
            cells += ["–"] * (4 if m in learned else 1)
            continue
        mae, h = ci([x["mae"] for x in res])
        cells.append(f"{mae:.3f} ± {h:.3f} ({len(res)})" if m in learned else f"{mae:.3f} ± {h:.3f}")
        if m in learned:
            pd = [x.get("partition_distance", float("nan")) for x in res]
            cells.append(f"{mean(pd):.1f} ({sum(1 for p in pd if p == 0)}/{len(pd)})")
            both = [x for x in res if x["seed"] in oracle]  # the ratio over the seeds both finished
            cells.append(f"{mean([x['mae'] for x in both]) / mean([oracle[x['seed']] for x in both]):.2f}" if both else "–")
            ts = [x["train_seconds"] for x in res if x.get("train_seconds") is not None]
            cells.append(f"{mean(ts):.0f}" if ts else "–")
    print("| " + " | ".join(cells) + " |")
PY
