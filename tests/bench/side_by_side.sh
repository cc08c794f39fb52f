# Side by side with the PyTorch peers (../shared/peers), same data, same run:
# symlearn's meta-train and the peer alternate (which goes first flips every
# repetition), REPS times each; the table gives medians and the ratio
# symlearn speed / PyTorch speed (> 1: symlearn is faster). The machine's load
# average is printed before and after: the ratios are what counts.
#   BIN (symlearn tools), PEERS (the peers' folder), REPS (3), STEPS (300,
#   outer steps per MSR run), EPOCHS (1), THREADS ("1 2"), IMAGES (glyphs |
#   fashion: Fashion-MNIST 10k when installed), ONLY (an extended regular
#   expression: only the rows whose job matches it, e.g. ONLY='lconv|cnn').
# Speeds: MSR outer steps per second of the training loop; images seconds per
# epoch of the training loop (both sides time only their loop).
set -eu
BIN=${BIN:-build/bin}
PEERS=${PEERS:-../shared/peers}
REPS=${REPS:-3}
STEPS=${STEPS:-300}
EPOCHS=${EPOCHS:-1}
THREADS=${THREADS:-"1 2"}
PY=/usr/bin/python3
OUT=$(mktemp -d "${TMPDIR:-/tmp}/symlearn-sbs.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

"$BIN/gen-tasks" locally-connected --rank 1 --tasks 2000 --seed 0 --quiet -o "$OUT/rank1.h5"
"$BIN/gen-tasks" locally-connected --rank 5 --tasks 2000 --seed 0 --quiet -o "$OUT/rank5.h5"
FM=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ "${IMAGES:-fashion}" = fashion ] && [ -f "$FM" ]; then
  images="Fashion-MNIST 28x28, 10000 images"
  "$BIN/gen-tasks" rotated-scrambled --source fashion-mnist --train 10000 --test 1000 --rotate --scramble --seed 0 \
    --quiet -o "$OUT/images.h5"
else
  images="builtin glyphs 16x16, 4000 images"
  "$BIN/gen-tasks" rotated-scrambled --rotate --scramble --seed 0 --quiet -o "$OUT/images.h5"
fi

# One timing of one side: prints the speed.
symlearn_msr() {  # MODEL RANK LATENT THREADS INNER_STEPS
  latent=""
  [ "$1" = msr-fc ] && latent="--latent $3"
  "$BIN/meta-train" "$1" $latent --inner-steps "$5" --steps "$STEPS" --val-every 100000 --threads "$4" --quiet --json \
    "$OUT/rank$2.h5" -o /dev/null | field steps_per_second
}
peer_msr() {  # MODEL RANK LATENT THREADS INNER_STEPS
  case $1 in msr-fc) m=share_fc ;; maml-fc) m=fc ;; maml-conv) m=conv ;; esac
  OMP_WAIT_POLICY=PASSIVE $PY "$PEERS/pytorch_msr/msr_train.py" --tasks_file "$OUT/rank$2.h5" --problem "rank$2" \
    --model "$m" --latent "$3" --inner_steps "$5" --impl batched --steps "$STEPS" --threads "$4" --eval_every 0 --eval_tasks 10 |
    sed -n 's/^RESULT //p' | field train_steps_per_sec
}
symlearn_images() {  # MODEL THREADS LAYERS
  "$BIN/meta-train" "$1" --layers "$3" --epochs "$EPOCHS" --threads "$2" --quiet --json "$OUT/images.h5" -o /dev/null |
    $PY -c "import json,sys; j=json.load(sys.stdin); print(j['train_seconds'] / $EPOCHS)"
}
peer_images() {  # MODEL THREADS LAYERS
  $PY "$PEERS/pytorch_lconv/lconv_train.py" --tasks "$OUT/images.h5" --model "$1" --layers "$3" --epochs "$EPOCHS" --threads "$2" \
    --quiet | tail -n 1 | field seconds_per_epoch
}

echo "== side by side with the PyTorch peers (torch $($PY -c 'import torch; print(torch.__version__)'), medians of $REPS alternating runs)"
echo "   machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $(load)"
echo
echo "| job | threads | symlearn | PyTorch | symlearn ÷ PyTorch |"
echo "|---|---|---|---|---|"
row() {  # LABEL THREADS UNIT HIGHER_IS_FASTER SYMLEARN_CMD... -- PEER_CMD...
  label=$1 threads=$2 unit=$3 higher=$4
  shift 4
  [ -n "${ONLY:-}" ] && ! printf '%s\n' "$label" | grep -Eq "$ONLY" && return 0
  : >"$OUT/s" && : >"$OUT/p"
  for i in $(seq "$REPS"); do
    if [ $((i % 2)) -eq 1 ]; then
      "$@" s >>"$OUT/s"; "$@" p >>"$OUT/p"
    else
      "$@" p >>"$OUT/p"; "$@" s >>"$OUT/s"
    fi
  done
  s=$(median <"$OUT/s") p=$(median <"$OUT/p")
  $PY -c "
s, p, higher = $s, $p, $higher
ratio = s / p if higher else p / s
print(f'| $label | $threads | {s:.3g} $unit | {p:.3g} $unit | {ratio:.2f}× |')"
}
msr_job() {  # MODEL RANK LATENT THREADS INNER_STEPS s|p
  if [ "$6" = s ]; then symlearn_msr "$1" "$2" "$3" "$4" "$5"; else peer_msr "$1" "$2" "$3" "$4" "$5"; fi
}
image_job() {  # MODEL THREADS LAYERS s|p
  if [ "$4" = s ]; then symlearn_images "$1" "$2" "$3"; else peer_images "$1" "$2" "$3"; fi
}
for t in $THREADS; do
  row "msr-fc rank 1 (k = 3)" "$t" "steps/s" 1 msr_job msr-fc 1 3 "$t" 1
  row "msr-fc rank 5 (k = 30)" "$t" "steps/s" 1 msr_job msr-fc 5 30 "$t" 1
  row "msr-fc rank 1, 5 inner steps" "$t" "steps/s" 1 msr_job msr-fc 1 3 "$t" 5
  row "maml-conv rank 1" "$t" "steps/s" 1 msr_job maml-conv 1 3 "$t" 1
  row "lconv, $images" "$t" "s/epoch" 0 image_job lconv "$t" 1
  row "lconv 2 layers, $images" "$t" "s/epoch" 0 image_job lconv "$t" 2
  row "cnn, $images" "$t" "s/epoch" 0 image_job cnn "$t" 1
done
echo
echo "   load average after: $(load)"
