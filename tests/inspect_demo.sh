# The picture of `make demo`: did msr-fc find the convolution? Trains msr-fc
# on default-size rank-1 (convolution) tasks, unless tests/demo.sh already
# made out/tasks.h5 and out/msr-fc.h5, then writes out/msr-fc.png and prints
# the report with inspect-symmetry --truth.
set -eu
BIN=${BIN:-build/bin}
mkdir -p out
[ -f out/tasks.h5 ] || "$BIN/gen-tasks" locally-connected --rank 1 --tasks 4000 --seed 0 -o out/tasks.h5
[ -f out/msr-fc.h5 ] || "$BIN/meta-train" msr-fc --steps 1000 out/tasks.h5 -o out/msr-fc.h5
echo
echo "Did msr-fc find the convolution? (picture: out/msr-fc.png)"
"$BIN/inspect-symmetry" out/msr-fc.h5 --truth out/tasks.h5 --png out/msr-fc.png
