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

echo
echo "== meta-train msr-fc (MSR paper sizes: 70 -> 68, kernel 3, 32 tasks per step, 1 support + 19 query), $REPS runs"
for rank in 1 5; do
  "$BIN/gen-tasks" locally-connected --rank "$rank" --tasks 2000 --seed 0 --quiet -o "$OUT/rank$rank.h5"
done
for spec in "1 3" "5 15" "5 30"; do
  set -- $spec
  for threads in 1 2; do
    : >"$OUT/runs"
    for i in $(seq "$REPS"); do
      "$BIN/meta-train" msr-fc --latent "$2" --steps "${BENCH_STEPS:-1000}" --val-every 100000 --threads "$threads" \
        --seed "$i" --quiet --json "$OUT/rank$1.h5" -o /dev/null >"$OUT/s.json"
      echo "$(field steps_per_second <"$OUT/s.json") $(field peak_rss_mib <"$OUT/s.json")" >>"$OUT/runs"
    done
    printf '  rank %s (k = %2s), --threads %s: median %.0f outer steps/s, peak RSS %.0f MiB\n' "$1" "$2" "$threads" \
      "$(cut -d' ' -f1 "$OUT/runs" | median)" "$(cut -d' ' -f2 "$OUT/runs" | median)"
  done
done
# Reading the tasks from a pipe: stdin is spooled to a temporary file, the data held as float32.
size=$(stat -c %s "$OUT/rank1.h5")
/usr/bin/env time -f "%M" -o "$OUT/t" "$BIN/meta-train" msr-fc --steps 20 --quiet - -o /dev/null <"$OUT/rank1.h5"
printf '  meta-train reading a %.1f MB tasks file from a pipe: peak RSS %.1f MB (%.2f x the file)\n' \
  "$(echo "$size" | awk '{print $1/1e6}')" "$(awk '{print $1*1024/1e6}' "$OUT/t")" \
  "$(awk -v s="$size" '{print $1*1024/s}' "$OUT/t")"
for threads in 1 2; do
  "$BIN/meta-train" msr-fc --engine autodiff --steps 200 --val-every 100000 --threads "$threads" --quiet --json \
    "$OUT/rank1.h5" -o /dev/null >"$OUT/s.json"
  printf '  rank 1 through the general autodiff (--engine autodiff), --threads %s: %.0f outer steps/s\n' "$threads" \
    "$(field steps_per_second <"$OUT/s.json")"
done

echo
# Learned sharing with the original protocol (issue 15): the authors' code
# took ~22 minutes per start on one core at L = 10 (measured by the issue's
# author, not here); one start of ours, timed, on the same kind of data.
if [ "${BENCH_SHARING:-1}" = 1 ]; then
  echo "== meta-train sharing --protocol yeh2022, L = 10, rank 2, seed 0, one start (--restarts 1), 1 thread"
  "$BIN/gen-tasks" sum-of-numbers --length 10 --rank 2 --seed 0 --quiet -o "$OUT/sums.h5"
  "$BIN/meta-train" sharing --protocol yeh2022 --restarts 1 --threads 1 --quiet --json "$OUT/sums.h5" \
    -o "$OUT/sharing.h5" >"$OUT/s.json"
  outer=$(/usr/bin/python3 -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['log/outer_val_loss'].shape[0])" "$OUT/sharing.h5" 2>/dev/null || echo "?")
  printf '  %.0f s for the start (%s outer steps of 250 inner steps, the refit and the final fit); the original: ~1320 s\n' \
    "$(field seconds <"$OUT/s.json")" "$outer"
  echo
fi
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -d "${PEERS:-../shared/peers}" ]; then
  sh "$(dirname "$0")/side_by_side.sh"
else
  echo "== no side-by-side table: the PyTorch peers need python3-torch (cmake/install-deps.sh --with-peers) and ../shared/peers"
fi
