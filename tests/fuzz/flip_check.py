#!/usr/bin/python3
"""Corruption of symlearn-written files is detected: flips one random bit in
each of N random bytes of a model file and of a tasks file (one flip per
mutant) and evaluates with each. Every run must either exit 2 with one line
naming the file, or print exactly the unmutated result (the byte was unused:
padding, free space, or data eval does not read, such as /train). Prints the
counts; exit status 1 on any other outcome.

  tests/fuzz/flip_check.py --bin build/bin [--flips 200] [--seed 1]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--flips", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    b = os.path.abspath(a.bin)
    d = tempfile.mkdtemp(prefix="symlearn-flips.")
    try:
        run = lambda cmd: subprocess.run(cmd, cwd=d, capture_output=True, timeout=60)
        run([f"{b}/gen-tasks", "locally-connected", "--tasks", "60", "--samples", "8", "--input-dim", "10",
             "--seed", "1", "--quiet", "-o", "t.h5"]).check_returncode()
        run([f"{b}/meta-train", "msr-fc", "--meta-batch", "4", "--support", "2", "--query", "6", "--val-tasks", "8",
             "--steps", "5", "--quiet", "t.h5", "-o", "m.h5"]).check_returncode()
        evals = {"model": lambda f: [f"{b}/eval", "--tasks", "t.h5", "--json", f],
                 "tasks": lambda f: [f"{b}/eval", "--tasks", f, "--json", "m.h5"]}
        source = {"model": "m.h5", "tasks": "t.h5"}
        rng = random.Random(a.seed)
        bad = 0
        for kind in ("model", "tasks"):
            src = source[kind]
            base = run(evals[kind](src)).stdout
            data = open(os.path.join(d, src), "rb").read()
            names = []
            for i in range(a.flips):
                mutated = bytearray(data)
                mutated[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
                name = f"flip{i:04d}.h5"
                open(os.path.join(d, name), "wb").write(mutated)
                names.append(name)
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                results = list(pool.map(lambda n: (n, run(evals[kind](n))), names))
            detected = unchanged = 0
            for name, p in results:
                err = p.stderr.decode(errors="replace").strip().splitlines()
                if p.returncode == 2 and len(err) == 1 and name in err[0]:
                    detected += 1
                elif p.returncode == 0 and p.stdout.replace(name.encode(), src.encode()) == base:
                    unchanged += 1
                else:
                    bad += 1
                    print(f"  {kind} {name}: exit {p.returncode}: {' | '.join(err)[:200]}")
            print(f"{kind} file ({len(data)} bytes), {a.flips} flipped bytes: {detected} detected (exit 2), "
                  f"{unchanged} unused (bit-identical result), {a.flips - detected - unchanged} other")
        return 1 if bad else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
