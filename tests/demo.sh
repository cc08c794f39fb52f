# `make demo`: the main job on built-in defaults. For now: generate the
# default locally-connected dataset (rank 1, kernel 3, n = 70, 10000 tasks)
# and summarise it.
set -eu
BIN=${BIN:-build/bin}
mkdir -p out
"$BIN/gen-tasks" locally-connected --seed 0 -o out/tasks.h5
echo
echo "Contents of out/tasks.h5:"
h5ls -r out/tasks.h5
