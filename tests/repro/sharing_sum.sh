#!/bin/sh
# Learned parameter sharing on sum-of-numbers (Yeh et al., AISTATS 2022):
# for lengths L and ranks 1 and 2, over seeds, `sharing` against the oracle
# sharing, no sharing and Deep Sets (sharing-all); test MAE and the partition
# distance of each learned sharing to the truth, one markdown table.
# Usage: BIN=build/bin sh tests/repro/sharing_sum.sh   (make repro-sharing)
# Environment: LENGTHS ("2 4 6 8 10"), RANKS ("1 2"), SEEDS ("0 1 2 3 4"),
#              JOBS (parallel runs, default nproc), OUT (work dir, default out/repro-sharing),
#              EXTRA (more meta-train options for `sharing`).
set -eu
: "${BIN:?BIN must point at the built tools}"
LENGTHS=${LENGTHS:-"2 4 6 8 10"}
RANKS=${RANKS:-"1 2"}
SEEDS=${SEEDS:-"0 1 2 3 4"}
JOBS=${JOBS:-$(nproc)}
OUT=${OUT:-out/repro-sharing}
EXTRA=${EXTRA:-}
mkdir -p "$OUT"
[ "${1:-}" = "--one" ] || rm -f "$OUT"/*.json
start=$(date +%s)

one() {  # one() L RANK SEED: data, four models, their evaluations
  L=$1 R=$2 S=$3
  d="$OUT/L${L}-r${R}-s${S}"
  "$BIN"/gen-tasks sum-of-numbers --length "$L" --rank "$R" --noise 0.5 --seed "$S" --quiet -o "$d.h5"
  for m in sharing sharing-oracle sharing-none sharing-all; do
    extra=""
    [ "$m" = sharing ] && extra=$EXTRA
    # shellcheck disable=SC2086
    "$BIN"/meta-train "$m" --seed "$S" --quiet $extra "$d.h5" -o "$d.$m.h5"
    "$BIN"/eval --json --tasks "$d.h5" "$d.$m.h5" >"$d.$m.json"
  done
  rm -f "$d.h5"
  echo "L=$L rank=$R seed=$S done" >&2
}

# The script runs one (L, rank, seed) itself when called as `sh sharing_sum.sh --one L RANK SEED`.
if [ "${1:-}" = "--one" ]; then
  one "$2" "$3" "$4"
  exit 0
fi
export BIN OUT EXTRA
for L in $LENGTHS; do for R in $RANKS; do for S in $SEEDS; do echo "$L $R $S"; done; done; done |
  xargs -P "$JOBS" -n 3 sh "$0" --one
secs=$(( $(date +%s) - start ))

/usr/bin/python3 - "$OUT" "$secs" "$SEEDS" <<'PY'
import glob, json, math, os, sys
out, secs, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
rows = {}
for f in glob.glob(os.path.join(out, "*.json")):
    base = os.path.basename(f)[:-5]
    key, model = base.split(".", 1)
    L, r, s = key.split("-")
    rows.setdefault((int(L[1:]), int(r[1:]), model), []).append(json.load(open(f)))
T = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
def ci(v):
    n = len(v); m = sum(v) / n
    if n < 2: return m, float("nan")
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (n - 1))
    return m, T.get(n, 1.96) * sd / math.sqrt(n)
models = ["sharing", "sharing-oracle", "sharing-none", "sharing-all"]
print(f"Test MAE (mean ± 95% CI over {len(seeds)} seeds); for `sharing` also the partition distance to the truth"
      f" (mean, and seeds where it is 0). Total run time {secs} s.\n")
print("| L | rank | sharing: MAE | sharing: partition distance | oracle | none | all (Deep Sets) |")
print("|---|---|---|---|---|---|---|")
for (L, r) in sorted({(k[0], k[1]) for k in rows}):
    cells = []
    for m in models:
        res = rows.get((L, r, m), [])
        if not res: cells.append("–"); continue
        mae, h = ci([x["mae"] for x in res])
        cells.append(f"{mae:.3f} ± {h:.3f}")
        if m == "sharing":
            pd = [x.get("partition_distance", float("nan")) for x in res]
            cells.append(f"{sum(pd)/len(pd):.1f} ({sum(1 for p in pd if p == 0)}/{len(pd)})")
    print(f"| {L} | {r} | " + " | ".join(cells) + " |")
PY
