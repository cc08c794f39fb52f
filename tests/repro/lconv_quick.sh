# L-conv on plain, rotated and rotated+scrambled images ("Automatic Symmetry
# Discovery with Lie Algebra Convolutional Network", Dehmamy et al. 2021):
# lconv, cnn, fc, fc-shallow and lconv-random trained through the same code on
# the same files; test accuracy on /test and parameter counts; one markdown
# table on stdout (progress on stderr).
#   make repro-lconv PROTOCOL=symlearn [EPOCHS=10] [FEPOCHS=3] [FTRAIN=10000] [FTEST=2000] [DATASETS="builtin fashion"]
# Fashion-MNIST needs the Debian package dataset-fashion-mnist
# (cmake/install-deps.sh --with-fashion-mnist); without it that part is skipped.
set -eu
BIN=${BIN:-build/bin}
OUT=${OUT:-out/repro-lconv}
SEED=${SEED:-0}
EPOCHS=${EPOCHS:-10}        # builtin glyphs (16x16, 4000 train / 1000 test)
FEPOCHS=${FEPOCHS:-3}       # Fashion-MNIST subset
FTRAIN=${FTRAIN:-10000}
FTEST=${FTEST:-2000}
FC_FILTERS=${FC_FILTERS:-4} # fc without weight sharing: HW*C x HW*F weights; 32 filters would be 19.7M for 28x28
DATASETS=${DATASETS:-"builtin fashion"}
MODELS=${MODELS:-"lconv cnn fc fc-shallow lconv-random"}
mkdir -p "$OUT"

echo "| data | variant | model | parameters | test accuracy | train s |"
echo "|---|---|---|---|---|---|"
for data in $DATASETS; do
  if [ "$data" = fashion ]; then
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "skipping Fashion-MNIST (not installed)" >&2; continue; }
    src="--source fashion-mnist --train $FTRAIN --test $FTEST"; epochs=$FEPOCHS
  else
    src="--source builtin"; epochs=$EPOCHS
  fi
  for variant in plain rotated rotated+scrambled; do
    case $variant in plain) flags="" ;; rotated) flags="--rotate" ;; *) flags="--rotate --scramble" ;; esac
    tasks="$OUT/$data-$variant.h5"
    [ -f "$tasks" ] || "$BIN/gen-tasks" rotated-scrambled $src $flags --seed "$SEED" --quiet -o "$tasks"
    for model in $MODELS; do
      extra=""
      [ "$model" = fc ] && extra="--filters $FC_FILTERS"
      m="$OUT/$data-$variant-$model-e$epochs.h5"
      "$BIN/meta-train" "$model" --epochs "$epochs" $extra --seed "$SEED" --quiet --json "$tasks" -o "$m" >"$m.json"
      secs=$(python3 -c "import json,sys; print('%.1f' % json.load(open(sys.argv[1]))['train_seconds'])" "$m.json")
      "$BIN/eval" --tasks "$tasks" --json "$m" >"$m.eval.json"
      python3 - "$m.eval.json" "$data" "$variant" "$model" "$secs" "$epochs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} ({sys.argv[6]} epochs) | {sys.argv[3]} | {sys.argv[4]} | {r['parameters']} | {r['accuracy']:.4f} | {sys.argv[5]} |")
PY
    done
  done
done
