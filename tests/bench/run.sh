# `make bench`: throughput and peak memory of the main jobs. Not part of
# `make test`. Reports medians over repeated runs.
set -eu
BIN=${BIN:-build/bin}
BENCH=${BENCH:-build/bench}
REPS=${REPS:-5}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/symlearn-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "== gen-tasks locally-connected, default dataset (10000 tasks, n=70, 20 samples), $REPS runs"
for threads in 1 2; do
  : >"$OUT/runs"
  for i in $(seq "$REPS"); do
    "$BIN/gen-tasks" locally-connected --seed "$i" --threads "$threads" --quiet --json -o "$OUT/tasks.h5" >"$OUT/s.json"
    echo "$(field tasks_per_second <"$OUT/s.json") $(field megabytes_per_second <"$OUT/s.json") $(field peak_rss_mib <"$OUT/s.json")" >>"$OUT/runs"
  done
  printf '  to a file, --threads %s: median %.0f tasks/s, %.1f MB/s, peak RSS %.1f MiB\n' "$threads" \
    "$(cut -d' ' -f1 "$OUT/runs" | median)" "$(cut -d' ' -f2 "$OUT/runs" | median)" "$(cut -d' ' -f3 "$OUT/runs" | median)"
done
# To a pipe the whole file is built in memory first (HDF5 needs a seekable file).
: >"$OUT/rss"
for i in $(seq "$REPS"); do
  /usr/bin/env time -f "%M %e" -o "$OUT/t" "$BIN/gen-tasks" locally-connected --seed "$i" --quiet | cat >/dev/null 2>&1 || true
  [ -s "$OUT/t" ] && echo "$(cut -d' ' -f1 "$OUT/t")" >>"$OUT/rss"
done
[ -s "$OUT/rss" ] && printf '  to a pipe: peak RSS %.1f MiB (median)\n' "$(median <"$OUT/rss" | awk '{print $1/1024}')"

if [ -x "$BENCH/bench_gemm" ]; then
  echo
  echo "== matrix products: Eigen vs OpenBLAS (lib/linalg/README.md explains the choice)"
  "$BENCH/bench_gemm"
fi
