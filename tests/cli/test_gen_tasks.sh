# gen-tasks end to end: help, outputs to files and pipes, determinism, errors.
. "$TESTS/cli/lib.sh"
G="$BIN/gen-tasks"
SMALL="--tasks 40 --samples 5 --input-dim 12 --kernel 3 --quiet"

# Help: to stdout, exit 0, lists the kinds; each kind has its own help with an example.
"$G" --help >"$WORK/help" || fail "--help exit status"
grep -q "locally-connected" "$WORK/help" || fail "--help does not list locally-connected"
"$G" locally-connected --help >"$WORK/help" || fail "locally-connected --help exit status"
grep -q "^e.g.: gen-tasks locally-connected" "$WORK/help" || fail "locally-connected --help has no example"
grep -q -- "--rank" "$WORK/help" || fail "locally-connected --help lacks --rank"
"$G" --version | grep -q "^gen-tasks [0-9]" || fail "--version"

# To a file, with a JSON summary on stdout.
expect_ok "$G" locally-connected $SMALL --seed 3 -o "$WORK/a.h5" --json >"$WORK/summary.json"
$PY -c "
import json, sys
s = json.load(open('$WORK/summary.json'))
assert s['config']['tasks'] == 40 and s['config']['seed'] == 3, s
assert s['bytes'] > 0 and s['tasks_per_second'] > 0 and s['peak_rss_mib'] > 0, s
" || fail "--json summary"
h5dump -H "$WORK/a.h5" >/dev/null || fail "h5dump cannot read the output"
h5dump -a /symlearn_format "$WORK/a.h5" | grep -q '"tasks"' || fail "symlearn_format attribute"
no_temp_files "$WORK"

# --permute-inputs: the same tasks, each task's inputs permuted after y was computed.
expect_ok "$G" locally-connected $SMALL --seed 3 --permute-inputs -o "$WORK/perm.h5"
$PY "$TESTS/cli/check_locally_connected.py" "$WORK/perm.h5" 1 3 12 >/dev/null || fail "--permute-inputs: definition"
$PY - "$WORK/a.h5" "$WORK/perm.h5" <<'PY' || fail "--permute-inputs: against the unpermuted file"
import json, sys
import h5py, numpy as np
a, p = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert json.loads(a.attrs["config"])["permute_inputs"] is False
assert json.loads(p.attrs["config"])["permute_inputs"] is True
for split in ("train", "test"):
    for k in ("y", "w", "b"):
        assert np.array_equal(a[split][k][()], p[split][k][()]), (split, k)
    perm, xa, xp = p[split]["permutation"][()], a[split]["x"][()], p[split]["x"][()]
    assert all(np.array_equal(xp[t], xa[t][:, perm[t]]) for t in range(len(perm)))
    assert len({tuple(q) for q in perm}) == len(perm), "tasks share a permutation"
assert np.array_equal(a["truth/symmetry"][()], p["truth/symmetry"][()])
PY

# To stdout, through a pipe: the same bytes as the file.
"$G" locally-connected $SMALL --seed 3 | cat >"$WORK/b.h5"
cmp -s "$WORK/a.h5" "$WORK/b.h5" || fail "stdout output differs from file output"
"$G" locally-connected $SMALL --seed 3 -o - >"$WORK/c.h5"
cmp -s "$WORK/a.h5" "$WORK/c.h5" || fail "-o - output differs from file output"

# A target that is not a regular file is written in place, never replaced.
expect_ok "$G" locally-connected $SMALL --seed 3 -o /dev/null
[ -c /dev/null ] || fail "-o /dev/null replaced the device"
mkfifo "$WORK/fifo"
cat "$WORK/fifo" >"$WORK/from-fifo.h5" &
expect_ok "$G" locally-connected $SMALL --seed 3 -o "$WORK/fifo"
wait
cmp -s "$WORK/a.h5" "$WORK/from-fifo.h5" || fail "output through a FIFO differs"
[ -p "$WORK/fifo" ] || fail "the FIFO was replaced"
rm "$WORK/fifo"

# Same seed: bit-identical whatever the thread count; another seed differs.
expect_ok "$G" locally-connected $SMALL --rank 2 --seed 9 --threads 1 -o "$WORK/t1.h5"
expect_ok "$G" locally-connected $SMALL --rank 2 --seed 9 --threads 2 -o "$WORK/t2.h5"
expect_ok "$G" locally-connected $SMALL --rank 2 --seed 9 --threads 7 -o "$WORK/t7.h5"
cmp -s "$WORK/t1.h5" "$WORK/t2.h5" || fail "--threads 1 and 2 differ"
cmp -s "$WORK/t1.h5" "$WORK/t7.h5" || fail "--threads 1 and 7 differ"
expect_ok "$G" locally-connected $SMALL --rank 2 --seed 10 -o "$WORK/s10.h5"
if cmp -s "$WORK/t1.h5" "$WORK/s10.h5"; then fail "different seeds gave the same file"; fi

# Options from a config file; the command line wins.
printf '[locally-connected]\nseed = 3\ntasks = 40\nsamples = 5\ninput-dim = 12\n' >"$WORK/opts.ini"
expect_ok "$G" locally-connected --config "$WORK/opts.ini" --quiet -o "$WORK/cfg.h5"
cmp -s "$WORK/a.h5" "$WORK/cfg.h5" || fail "--config did not give the same file as the options"

# The shipped example options file.
expect_ok "$G" --config "$DATA/locally-connected.ini" locally-connected --tasks 20 --quiet -o "$WORK/ex.h5"
h5dump -H -d /train/x "$WORK/ex.h5" | grep -q "( 16, 20, 20 )" || fail "example config: shape of /train/x"

# Bad usage: exit 2, one line, nothing written, an existing output untouched.
echo "precious" >"$WORK/keep.h5"
expect_error 2 "gen-tasks: .*--bogus" "$G" locally-connected --bogus -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: --kernel must be at least 1" "$G" locally-connected --kernel 0 -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: --kernel 13 is larger than --input-dim 12" "$G" locally-connected $SMALL --kernel 13 -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: --test-fraction" "$G" locally-connected $SMALL --test-fraction 1.5 -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: --rank" "$G" locally-connected $SMALL --rank -1 -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: .*could not be converted\|gen-tasks: .*--tasks" "$G" locally-connected --tasks many -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: .*subcommand" "$G"
expect_error 2 "gen-tasks: .*no-such-dir.*No such file or directory\|gen-tasks: .*no-such-dir" "$G" locally-connected $SMALL -o "$WORK/no-such-dir/x.h5"
expect_error 2 "gen-tasks: .*nope.ini" "$G" locally-connected --config "$WORK/nope.ini" -o "$WORK/keep.h5"
expect_error 2 "gen-tasks: --json needs -o FILE" "$G" locally-connected $SMALL --json
[ "$(cat "$WORK/keep.h5")" = "precious" ] || fail "a failed run changed the existing output"

# Never binary to a terminal: run under a pseudo-terminal.
script -qec "$G locally-connected $SMALL" /dev/null >"$WORK/tty.txt" 2>&1 && fail "wrote to a terminal"
grep -q "gen-tasks: <stdout>: is a terminal" "$WORK/tty.txt" || fail "no terminal refusal: $(cat "$WORK/tty.txt")"

# Interrupted: the existing output survives and no temporary file is left.
"$G" locally-connected --tasks 500000 --samples 20 --quiet --threads 1 -o "$WORK/keep.h5" &
pid=$!
sleep 0.3
kill -TERM "$pid"  # (a non-interactive shell starts background jobs with SIGINT ignored)
wait "$pid" && fail "an interrupted run exited 0"
[ "$(cat "$WORK/keep.h5")" = "precious" ] || fail "an interrupted run changed the existing output"
no_temp_files "$WORK"
echo "ok"
