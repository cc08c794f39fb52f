#!/bin/sh
# Same seeds, same numbers across a refactor: trains one small run of every
# model with the binaries in BIN and compares the /params datasets (names,
# shapes, dtypes, bytes and `role` attributes) with those in REF.
#
#   tests/compat/params_identity.sh make BIN REF   # write the reference files
#   tests/compat/params_identity.sh check BIN REF  # compare against them
#
# BIN may hold binaries from before issue 11 (`meta-train --model NAME`) or
# after it (`meta-train NAME`); the syntax is detected from --help.
# Issue 11 compared a build of commit e8df6a1 (make) with the refactored tree (check).
set -eu
mode=$1 BIN=$2 REF=$3
mkdir -p "$REF"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/symlearn-compat.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if "$BIN/meta-train" --help | grep -q -- '--model'; then old=1; else old=0; fi

# The data: one small file of each kind the models train on (gen-tasks is unchanged).
"$BIN/gen-tasks" locally-connected --tasks 120 --samples 8 --input-dim 10 --seed 1 --quiet -o "$WORK/lc.h5"
"$BIN/gen-tasks" sum-of-numbers --length 3 --rank 2 --test 200 --seed 3 --quiet -o "$WORK/sums.h5"
"$BIN/gen-tasks" rotated-scrambled --size 8 --train 200 --test 50 --rotate --scramble --seed 2 --quiet -o "$WORK/rs.h5"

train() {  # NAME MODEL DATA OPTIONS...
  name=$1 model=$2 data=$3
  shift 3
  if [ "$old" = 1 ]; then set -- --model "$model" "$@"; else set -- "$model" "$@"; fi
  out="$WORK/$name.h5"
  [ "$mode" = make ] && out="$REF/$name.h5"
  "$BIN/meta-train" "$@" --seed 4 --quiet "$WORK/$data" -o "$out"
}
msr="--meta-batch 4 --support 2 --query 6 --val-tasks 8 --val-every 5 --steps 15"
for m in msr-fc msr-kron maml-fc maml-lc maml-conv; do train $m $m lc.h5 $msr; done
train msr-fc-2step msr-fc lc.h5 $msr --inner-steps 2 --inner-lr-mode param
fit="--embed 8 --hidden 4 --final-steps 200"
train sharing sharing sums.h5 $fit --outer-steps 5 --inner-warmup 50 --restarts 2
# The baselines have no outer problem: the old command line passed (and ignored) the same bi-level options.
for m in sharing-oracle sharing-none sharing-all; do
  if [ "$old" = 1 ]; then train $m $m sums.h5 $fit --outer-steps 5 --inner-warmup 50 --restarts 2; else train $m $m sums.h5 $fit; fi
done
img="--epochs 2 --batch 16 --filters 4"
for m in lconv lconv-random cnn fc fc-shallow; do train $m $m rs.h5 $img; done
if [ "$mode" = make ]; then echo "reference files written to $REF"; exit 0; fi

/usr/bin/python3 - "$REF" "$WORK" <<'PY'
import h5py, os, sys
ref, new = sys.argv[1], sys.argv[2]

def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out

def same(x, y):
    return (x.shape == y.shape and x.dtype == y.dtype and x[()].tobytes() == y[()].tobytes()
            and x.attrs.get("role") == y.attrs.get("role"))

bad = 0
names = sorted(f for f in os.listdir(ref) if f.endswith(".h5"))
for name in names:
    a, b = datasets(h5py.File(os.path.join(ref, name))), datasets(h5py.File(os.path.join(new, name)))
    params = sorted(k for k in a if k.startswith("params/"))
    ok = params == sorted(k for k in b if k.startswith("params/")) and all(same(a[k], b[k]) for k in params)
    # Beyond what the issue asks: the log and the optimizer state (a model file is a checkpoint).
    rest = sorted(k for k in a if not k.startswith("params/"))
    rest_ok = rest == sorted(k for k in b if not k.startswith("params/")) and all(same(a[k], b[k]) for k in rest)
    print(f"{name[:-3]:15s} {len(params):2d} params {'identical' if ok else 'DIFFER'};"
          f" {len(rest):2d} log/optimizer datasets {'identical' if rest_ok else 'DIFFER'}")
    bad += not (ok and rest_ok)
print(f"{len(names) - bad} passed, {bad} failed")
sys.exit(1 if bad or not names else 0)
PY
