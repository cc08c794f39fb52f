# `make demo`: the main job on built-in defaults. Generates rank-1 (convolution)
# tasks, meta-trains MSR on them, evaluates it on held-out tasks next to the
# MAML-FC baseline, which has no symmetry to share, and shows what MSR learned
# (inspect-symmetry: report and out/msr-fc.png).
set -eu
BIN=${BIN:-build/bin}
mkdir -p out
"$BIN/gen-tasks" locally-connected --rank 1 --tasks 4000 --seed 0 -o out/tasks.h5
"$BIN/meta-train" msr-fc --steps 1000 out/tasks.h5 -o out/msr-fc.h5
"$BIN/meta-train" maml-fc --steps 1000 out/tasks.h5 -o out/maml-fc.h5
echo
echo "Meta-test error after adapting to each held-out task from one example:"
"$BIN/eval" --tasks out/tasks.h5 --limit 300 out/msr-fc.h5
"$BIN/eval" --tasks out/tasks.h5 --limit 300 out/maml-fc.h5
echo
BIN="$BIN" sh "$(dirname "$0")/inspect_demo.sh"
