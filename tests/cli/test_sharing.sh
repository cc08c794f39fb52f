#!/bin/sh
# End-to-end: learned parameter sharing (meta-train sharing…, eval)
# on real sum-of-numbers and gaussian-sharing files, pipes, and bad inputs.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

"$BIN"/gen-tasks sum-of-numbers --length 3 --rank 2 --test 2000 --seed 3 --quiet -o sums.h5
small="--embed 8 --hidden 4 --outer-steps 5 --inner-warmup 50 --restarts 2 --final-steps 300 --quiet"

# Learned sharing: a model file with A (symmetry), logits (hyper), weights; eval reports every metric.
expect_ok "$BIN"/meta-train sharing $small sums.h5 -o learned.h5
/usr/bin/python3 - <<'PY' || fail "learned.h5 layout"
import h5py, json, numpy as np
f = h5py.File("learned.h5", "r")
assert f.attrs["symlearn_format"] == "model" and f.attrs["model"] == "sharing"
a = f["params/sharing"][()]
assert a.shape == (3, 3) and np.allclose(a.sum(1), 1) and (a >= 0).all()
assert f["params/sharing"].attrs["role"] == "symmetry" and f["params/logits"].attrs["role"] == "hyper"
assert f["params/psi"].shape == (12, 8) and f["params/psi"].attrs["role"] == "weights"
assert len(f["log/restart_loss"]) == 2 and len(f["log/outer_val_loss"]) == 5
cfg = json.loads(f.attrs["config"])
assert cfg["training"]["restarts"] == 2 and cfg["dataset"]["kind"] == "sum-of-numbers" and len(cfg["dataset"]["sha256"]) == 64
PY
"$BIN"/eval --json --tasks sums.h5 learned.h5 >learned.json
/usr/bin/python3 - <<'PY' || fail "eval --json of a sharing model"
import json
j = json.load(open("learned.json"))
assert j["examples"] == 2000 and j["split"] == "/test" and j["true_groups"] == 2
assert 0 <= j["accuracy"] <= 1 and j["mae"] >= 0 and j["mse"] >= j["mae"] ** 2 - 1e-9
assert 0 <= j["partition_distance"] <= 2
PY

# Baselines: the oracle recovers the truth exactly and fits; Deep Sets cannot fit rank-2 labels.
for m in sharing-oracle sharing-all; do
  expect_ok "$BIN"/meta-train "$m" --embed 16 --hidden 8 --quiet sums.h5 -o "$m.h5"
  "$BIN"/eval --json --tasks sums.h5 "$m.h5" >"$m.json"
done
/usr/bin/python3 - <<'PY' || fail "baselines"
import json
o, a = json.load(open("sharing-oracle.json")), json.load(open("sharing-all.json"))
assert o["partition_distance"] == 0 and a["partition_distance"] == 1, (o, a)
assert o["mae"] < 0.5 and a["mae"] > 2 * o["mae"], (o["mae"], a["mae"])
PY
"$BIN"/eval --tasks sums.h5 sharing-oracle.h5 | grep -q "partition distance 0" || fail "eval text line"

# Same seed, same file; a pipe gives the same numbers as files.
"$BIN"/meta-train sharing $small sums.h5 -o again.h5
cmp -s learned.h5 again.h5 || fail "same seed gave different model files"
"$BIN"/meta-train sharing $small sums.h5 -o - | "$BIN"/eval --json --tasks sums.h5 - >piped.json
cmp -s learned.json piped.json || fail "piped model evaluates differently"

# gaussian-sharing: closed-form inner problem, the MSE gap against the oracle.
"$BIN"/gen-tasks gaussian-sharing --dim 6 --rank 2 --seed 1 --quiet -o gauss.h5
expect_ok "$BIN"/meta-train sharing --outer-steps 30 --quiet gauss.h5 -o g.h5
expect_ok "$BIN"/meta-train sharing-oracle --quiet gauss.h5 -o go.h5
"$BIN"/eval --json --tasks gauss.h5 go.h5 >go.json
"$BIN"/eval --json --tasks gauss.h5 g.h5 >g.json
/usr/bin/python3 - <<'PY' || fail "gaussian eval"
import json
o, g = json.load(open("go.json")), json.load(open("g.json"))
assert abs(o["mse_gap"]) < 1e-12 and o["partition_distance"] == 0, o
assert abs(g["mse"] - g["oracle_mse"] - g["mse_gap"]) < 1e-12 and g["oracle_mse"] == o["oracle_mse"]
PY

# The original protocol (issue 15): its preset is recorded, options given override it,
# and every baseline trains under it too.
yeh="--protocol yeh2022 --embed 8 --hidden 4 --outer-steps 35 --inner-steps 5 --final-steps 400 --patience 50 --quiet"
expect_ok "$BIN"/meta-train sharing $yeh --restarts 2 sums.h5 -o yeh.h5
expect_ok "$BIN"/meta-train sharing-oracle --protocol yeh2022 --embed 8 --hidden 4 --final-steps 400 --patience 50 --quiet \
  sums.h5 -o yeh-oracle.h5
/usr/bin/python3 - <<'PY' || fail "yeh2022 model files"
import h5py, json
cfg = json.loads(h5py.File("yeh.h5", "r").attrs["config"])
t = cfg["training"] if "training" in cfg else cfg["train"]
assert t["protocol"] == "yeh2022", t
assert t["outer_steps"] == 35 and t["inner_steps"] == 5 and t["outer_lr"] == 0.01 and t["group_norm"] == 0.05, t
assert t["hypergrad"] == "neumann" and t["inner_lr"] == 0.001 and t["restarts"] == 2, t
PY
"$BIN"/eval --json --tasks sums.h5 yeh.h5 >yeh.json && "$BIN"/eval --json --tasks sums.h5 yeh-oracle.h5 >yeh-oracle.json ||
  fail "eval of yeh2022 models"
/usr/bin/python3 - <<'PY' || fail "yeh2022 evaluations"
import json
y, o = json.load(open("yeh.json")), json.load(open("yeh-oracle.json"))
assert o["partition_distance"] == 0 and o["mae"] < 1.0, o
assert y["mae"] > 0 and y["partition_distance"] >= 0, y
PY
expect_error 2 "protocol" "$BIN"/meta-train sharing --protocol original sums.h5 -o bad.h5

# --refine: from the random partition of untrained logits (no outer steps), the
# merge/split stage alone finds the even/odd sharing of a rank-2 L = 4 problem.
"$BIN"/gen-tasks sum-of-numbers --length 4 --rank 2 --test 2000 --seed 3 --quiet -o sums4.h5
for seed in 1 2 3; do
  expect_ok "$BIN"/meta-train sharing --protocol yeh2022 --embed 16 --hidden 16 --outer-steps 0 --final-steps 3000 \
    --patience 300 --refine --quiet --seed $seed sums4.h5 -o refined$seed.h5
  "$BIN"/eval --json --tasks sums4.h5 refined$seed.h5 >refined$seed.json || fail "eval of a refined model"
done
/usr/bin/python3 - <<'PY' || fail "refined models"
import h5py, json
changed = 0
for seed in (1, 2, 3):
    e = json.load(open(f"refined{seed}.json"))
    assert e["partition_distance"] == 0 and e["mae"] < 0.3, (seed, e)
    f = h5py.File(f"refined{seed}.h5", "r")
    steps = json.loads(f.attrs["config"])["refine_steps"]
    a = f["params/sharing"][()]
    assert ((a == 0) | (a == 1)).all() and (a.sum(1) == 1).all(), a  # the refined partition, one-hot
    changed += len(steps) > 0
assert changed >= 1  # the stage did the work: some start was not the truth already
PY
# On gaussian-sharing the stage scores partitions by the val MSE of their train group
# means: from the random partition of untrained logits it reaches the true two groups.
expect_ok "$BIN"/meta-train sharing --protocol yeh2022 --outer-steps 0 --refine --quiet gauss.h5 -o grefined.h5
"$BIN"/eval --json --tasks gauss.h5 grefined.h5 >grefined.json || fail "eval of a refined gaussian model"
/usr/bin/python3 -c "import json; e = json.load(open('grefined.json')); assert e['partition_distance'] == 0 and abs(e['mse_gap']) < 1e-12, e" ||
  fail "refined gaussian model"
expect_error 2 "refine is for --protocol yeh2022" "$BIN"/meta-train sharing --refine sums.h5 -o bad.h5
expect_error 2 "refine-tolerance" "$BIN"/meta-train sharing --protocol yeh2022 --refine --refine-tolerance 1 sums.h5 -o bad.h5
expect_ok "$BIN"/meta-train sharing --protocol yeh2022 --outer-steps 100 --quiet gauss.h5 -o gyeh.h5
"$BIN"/eval --tasks gauss.h5 gyeh.h5 | grep -q "means MSE" || fail "eval of a gaussian yeh2022 model"
expect_ok "$BIN"/meta-train sharing-brute --quiet gauss.h5 -o brute.h5
"$BIN"/eval --json --tasks gauss.h5 brute.h5 >brute.json || fail "eval of sharing-brute"
expect_error 2 "sharing-brute is for gaussian-sharing data" "$BIN"/meta-train sharing-brute sums.h5 -o bad.h5
"$BIN"/gen-tasks gaussian-sharing --dim 9 --rank 2 --seed 1 --quiet -o gauss9.h5
expect_error 2 "stops at K = 8" "$BIN"/meta-train sharing-brute gauss9.h5 -o bad.h5
expect_error 2 "for .sharing. (the baselines have no protocol there)" \
  "$BIN"/meta-train sharing-oracle --protocol yeh2022 gauss.h5 -o bad.h5

# Bad inputs: one line, exit 2, no output file.
"$BIN"/gen-tasks locally-connected --tasks 20 --quiet -o lc.h5
expect_error 2 "sum-of-numbers or gaussian-sharing" "$BIN"/meta-train sharing lc.h5 -o bad.h5
expect_error 2 "restarts" "$BIN"/meta-train sharing --restarts 0 sums.h5 -o bad.h5
expect_error 2 "hypergrad" "$BIN"/meta-train sharing --hypergrad newton sums.h5 -o bad.h5
expect_error 2 "exact" "$BIN"/meta-train sharing --hypergrad exact --outer-steps 1 --quiet sums.h5 -o bad.h5
expect_error 2 "gaussian-sharing" "$BIN"/eval --tasks gauss.h5 learned.h5
"$BIN"/gen-tasks sum-of-numbers --length 4 --test 10 --quiet -o four.h5
expect_error 2 "has shape \[4,4\] but \[3,3\]" "$BIN"/eval --tasks four.h5 learned.h5
[ ! -e bad.h5 ] || fail "a failed run left bad.h5"
no_temp_files .
echo ok
