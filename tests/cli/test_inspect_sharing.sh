# inspect-symmetry on learned-sharing models (issue 6): the groups of A and
# the partition distance to a sum-of-numbers truth. sharing-oracle recovers
# the true groups {0 2} {1 3} (distance 0), sharing-all puts every position
# in one group (distance 2). Text, JSON, the PNG decoded back, and a truth
# of another length.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
M="$BIN/meta-train"
I="$BIN/inspect-symmetry"
export PYTHONPATH="$TESTS/cli" PYTHONDONTWRITEBYTECODE=1

"$G" sum-of-numbers --length 4 --rank 2 --test 500 --quiet -o "$WORK/t.h5"
"$M" sharing-oracle "$WORK/t.h5" -o "$WORK/oracle.h5" --quiet
"$M" sharing-all "$WORK/t.h5" -o "$WORK/all.h5" --quiet

# Text.
expect_ok "$I" "$WORK/oracle.h5" --truth "$WORK/t.h5" >"$WORK/oracle.txt"
grep -q "^truth .*sum-of-numbers.*length 4, 2 true groups" "$WORK/oracle.txt" || fail "oracle truth: $(cat "$WORK/oracle.txt")"
grep -q "^sharing  \[4 x 4\], 16 parameters, /params/sharing$" "$WORK/oracle.txt" || fail "oracle header: $(cat "$WORK/oracle.txt")"
grep -q "^  groups           2 (row argmax" "$WORK/oracle.txt" || fail "oracle groups: $(cat "$WORK/oracle.txt")"
grep -q "group 0: positions 0 2 " "$WORK/oracle.txt" || fail "oracle group 0: $(cat "$WORK/oracle.txt")"
grep -q "group 1: positions 1 3 " "$WORK/oracle.txt" || fail "oracle group 1: $(cat "$WORK/oracle.txt")"
grep -q "^  decided          row max of A: min 1.000, mean 1.000" "$WORK/oracle.txt" || fail "oracle decided: $(cat "$WORK/oracle.txt")"
grep -q "^  true groups      2: {0 2} {1 3}$" "$WORK/oracle.txt" || fail "oracle true groups: $(cat "$WORK/oracle.txt")"
grep -q "^  verdict          sharing recovered: partition distance 0" "$WORK/oracle.txt" || fail "oracle verdict: $(cat "$WORK/oracle.txt")"
grep -q "other parameters: .*(hyper\|weights)" "$WORK/oracle.txt" || fail "oracle other params: $(cat "$WORK/oracle.txt")"
if grep -q "truth not compared" "$WORK/oracle.txt"; then fail "oracle: truth not compared"; fi

expect_ok "$I" "$WORK/all.h5" --truth "$WORK/t.h5" >"$WORK/all.txt"
grep -q "group 0: positions 0 1 2 3 " "$WORK/all.txt" || fail "all groups: $(cat "$WORK/all.txt")"
grep -q "^  verdict          sharing not recovered: partition distance 2 " "$WORK/all.txt" || fail "all verdict: $(cat "$WORK/all.txt")"

# Without truth: the groups, no verdict.
expect_ok "$I" "$WORK/oracle.h5" >"$WORK/plain.txt"
grep -q "group 1: positions 1 3 " "$WORK/plain.txt" || fail "plain groups"
if grep -q "verdict" "$WORK/plain.txt"; then fail "a verdict without truth"; fi

# JSON and the figure.
expect_ok "$I" --json "$WORK/all.h5" --truth "$WORK/t.h5" >"$WORK/all.json"
expect_ok "$I" --json --png "$WORK/oracle.png" "$WORK/oracle.h5" --truth "$WORK/t.h5" >"$WORK/oracle.json"
no_temp_files "$WORK"
$PY - "$WORK" <<'PY' || fail "JSON / PNG"
import json, sys
from png_decode import read_png
w = sys.argv[1]
o, a = (json.load(open(f"{w}/{n}.json")) for n in ("oracle", "all"))
assert o["model"]["kind"] == "sharing-oracle" and a["model"]["kind"] == "sharing-all", (o["model"], a["model"])
assert o["truth"]["has_sharing"] and o["truth"]["length"] == 4, o["truth"]
assert o["truth"]["sharing_groups"] == [[0, 2], [1, 3]], o["truth"]
(m,) = o["matrices"]
assert m["name"] == "sharing" and m["shape"] == [4, 4], m["shape"]
g = m["sharing_groups"]
assert g["count"] == 2 and g["groups"] == [[0, 2], [1, 3]] and len(g["columns"]) == 4, g
assert g["row_max_min"] == 1 and g["row_max_mean"] == 1, g
assert g["truth"] == {**g["truth"], "partition_distance": 0, "recovered": True, "groups": [[0, 2], [1, 3]]}, g["truth"]
g = a["matrices"][0]["sharing_groups"]
assert g["count"] == 1 and g["groups"] == [[0, 1, 2, 3]], g
assert g["truth"]["partition_distance"] == 2 and not g["truth"]["recovered"], g["truth"]
fig = o["figure"]
width, height, pixel = read_png(fig["file"])
assert (width, height) == (fig["width"], fig["height"]), (width, height)
titles = [p["title"] for p in fig["panels"]]
assert "sharing: A [4 x 4]" in titles and "truth: A_gt [4 x 4]" in titles, titles
PY

# A truth of another length: exit 2, one line naming both shapes.
"$G" sum-of-numbers --length 6 --rank 2 --train 20 --val 20 --hyper 20 --test 20 --quiet -o "$WORK/t6.h5"
expect_error 2 "inspect-symmetry: .*t6.h5: /truth/sharing is \[6 x 6\] but the sharing-oracle model .*oracle.h5 has /params/sharing \[4 x 4\]" \
  "$I" "$WORK/oracle.h5" --truth "$WORK/t6.h5"
echo ok
