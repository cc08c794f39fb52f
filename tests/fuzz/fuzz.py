#!/usr/bin/python3
"""Mutation fuzzer over every symlearn reader, driving the real binaries.

A seed corpus of small valid files of every kind (five tasks kinds, a model of
every family, a prox-regularize output) is made with the tools themselves;
each mutant (byte-level: bit flips, truncation, zeroed or duplicated blocks;
semantic, rewritten with h5py: wrong dtypes and ranks, zero and huge
dimensions, NaN/Inf, out-of-range integers, missing datasets and attributes,
config JSON of the wrong shape) is fed to every tool that reads that kind of
file. A run fails the harness when it
  crashes (killed by a signal, or a sanitizer report), hangs (--timeout),
  exits 1 with "internal error" (an exception no input should reach),
  exits with a code other than 0, 2 (bad input) or 1 (run error),
  fails without exactly one line on stderr, or refuses the file (exit 2)
  with a line that does not name it.
Failing mutants are kept in OUT/failures/ with a line in OUT/failures.txt.

  tests/fuzz/fuzz.py --bin build/bin [--mutants N | --seconds S] [--seed K] [--out DIR]
Deterministic for a given seed and --mutants. Exit status 1 when any run failed.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

# ---- seed corpus -------------------------------------------------------------


def make_corpus(bin_dir, d):
    """Small valid files of every kind; returns {name: kind}."""
    g, m, p = f"{bin_dir}/gen-tasks", f"{bin_dir}/meta-train", f"{bin_dir}/prox-regularize"
    q = ["--quiet"]
    steps = [
        [g, "locally-connected", "--tasks", "40", "--samples", "8", "--input-dim", "10", "--seed", "1", *q, "-o", "lc.h5"],
        [g, "rotated-scrambled", "--size", "6", "--train", "40", "--test", "10", "--rotate", "--scramble",
         "--seed", "2", *q, "-o", "rs.h5"],
        [g, "sum-of-numbers", "--length", "3", "--test", "40", "--seed", "3", *q, "-o", "sums.h5"],
        [g, "gaussian-sharing", "--dim", "4", "--rank", "2", "--seed", "4", *q, "-o", "gauss.h5"],
        [g, "rotated-scrambled", "--size", "6", "--train", "40", "--test", "10", "--protocol", "dehmamy2021",
         "--rotate", "--seed", "5", *q, "-o", "rsval.h5"],
        [g, "generator-pairs", "--size", "4", "--amount", "2", "--pairs", "40", "--test-pairs", "8", "--seed", "6", *q,
         "-o", "pairs.h5"],
        [g, "lgn-patches", "--patch", "3", "--train", "40", "--test", "8", "--seed", "7", *q, "-o", "patches.h5"],
    ]
    msr = ["--meta-batch", "4", "--support", "2", "--query", "6", "--val-tasks", "4", "--val-every", "2", "--steps", "4"]
    steps += [
        [m, "msr-fc", *msr, *q, "lc.h5", "-o", "msr.h5"],
        [m, "msr-fc", "--inner-solver", "ridge", *msr, *q, "lc.h5", "-o", "ridge.h5"],
        [m, "msr-kron", *msr, *q, "lc.h5", "-o", "kron.h5"],
        [m, "maml-conv", *msr, *q, "lc.h5", "-o", "conv.h5"],
        [m, "lconv", "--epochs", "1", "--filters", "2", "--generators", "2", "--rank", "2", *q, "rs.h5", "-o", "lconv.h5"],
        [m, "cnn", "--epochs", "1", "--filters", "2", *q, "rs.h5", "-o", "cnn.h5"],
        [m, "sharing", "--embed", "4", "--hidden", "2", "--outer-steps", "2", "--inner-warmup", "5", "--restarts", "1",
         "--final-steps", "5", *q, "sums.h5", "-o", "sharing.h5"],
        [p, "--op", "exclusive", "--lambda", "0.05", "--quiet", "msr.h5", "-o", "prox.h5"],
        [m, "lie-generator", "--iterations", "20", *q, "pairs.h5", "-o", "liegen.h5"],
        [m, "lgn-action", "--epochs", "2", *q, "patches.h5", "-o", "lgnaction.h5"],
        [m, "lgn", "--epochs", "1", "--layers", "2", "--kernel", "3", "--groups", "2", "--order", "2", "--pool", "2", *q,
         "rs.h5", "-o", "lgn.h5"],
    ]
    for s in steps:
        subprocess.run(s, cwd=d, check=True, capture_output=True)
    return {"lc.h5": "tasks-lc", "rs.h5": "tasks-images", "sums.h5": "tasks-sharing", "gauss.h5": "tasks-sharing",
            "msr.h5": "model-msr", "ridge.h5": "model-msr", "kron.h5": "model-msr", "conv.h5": "model-msr", "lconv.h5": "model-images",
            "cnn.h5": "model-images", "sharing.h5": "model-sharing", "prox.h5": "model-msr", "rsval.h5": "tasks-images",
            "pairs.h5": "tasks-pairs", "liegen.h5": "model-generator", "patches.h5": "tasks-patches",
            "lgnaction.h5": "model-lgn-action", "lgn.h5": "model-lgn"}


def readers(bin_dir, kind, f):
    """The commands that read a file of `kind` at path f (outputs go to /dev/null)."""
    b = bin_dir
    short = ["--meta-batch", "4", "--support", "2", "--query", "6", "--val-tasks", "4", "--steps", "2", "--quiet"]
    out = ["-o", "/dev/null"]
    if kind == "tasks-lc":
        return [[f"{b}/meta-train", "msr-fc", *short, f, *out], [f"{b}/eval", "--tasks", f, "msr.h5"],
                [f"{b}/inspect-symmetry", "msr.h5", "--truth", f]]
    if kind == "tasks-images":
        return [[f"{b}/meta-train", "cnn", "--epochs", "1", "--filters", "2", "--quiet", f, *out],
                [f"{b}/eval", "--tasks", f, "lconv.h5"], [f"{b}/inspect-symmetry", "lconv.h5", "--truth", f]]
    if kind == "tasks-sharing":
        return [[f"{b}/meta-train", "sharing", "--embed", "4", "--hidden", "2", "--outer-steps", "1", "--inner-warmup",
                 "3", "--restarts", "1", "--final-steps", "3", "--quiet", f, *out],
                [f"{b}/eval", "--tasks", f, "sharing.h5"]]
    if kind == "tasks-pairs":
        return [[f"{b}/meta-train", "lie-generator", "--iterations", "5", "--quiet", f, *out],
                [f"{b}/eval", "--tasks", f, "liegen.h5"], [f"{b}/inspect-symmetry", "liegen.h5", "--truth", f]]
    if kind == "tasks-patches":
        return [[f"{b}/meta-train", "lgn-action", "--epochs", "1", "--quiet", f, *out],
                [f"{b}/eval", "--tasks", f, "lgnaction.h5"], [f"{b}/inspect-symmetry", "lgnaction.h5", "--truth", f]]
    if kind == "model-lgn-action":
        return [[f"{b}/eval", "--tasks", "patches.h5", f], [f"{b}/inspect-symmetry", f, "--truth", "patches.h5"]]
    if kind == "model-lgn":
        return [[f"{b}/eval", "--tasks", "rs.h5", f], [f"{b}/inspect-symmetry", f],
                [f"{b}/meta-train", "--resume", f, "--epochs", "2", "--quiet", "rs.h5", *out]]
    if kind == "model-generator":
        return [[f"{b}/eval", "--tasks", "pairs.h5", f], [f"{b}/inspect-symmetry", f, "--truth", "pairs.h5"]]
    if kind == "model-msr":
        return [[f"{b}/eval", "--tasks", "lc.h5", f], [f"{b}/inspect-symmetry", f, "--truth", "lc.h5"],
                [f"{b}/prox-regularize", "--op", "l1", "--lambda", "0.01", "--quiet", f, *out],
                [f"{b}/meta-train", "--resume", f, "--steps", "6", "--quiet", "lc.h5", *out]]
    if kind == "model-images":
        # The images file holds a truth an L-conv model is compared with; a CNN has nothing to compare (refused).
        truth = ["--truth", "rs.h5"] if "lconv" in os.path.basename(f) else []
        return [[f"{b}/eval", "--tasks", "rs.h5", f], [f"{b}/inspect-symmetry", f, *truth],
                [f"{b}/meta-train", "--resume", f, "--epochs", "2", "--quiet", "rs.h5", *out]]
    return [[f"{b}/eval", "--tasks", "sums.h5", f], [f"{b}/inspect-symmetry", f]]


# ---- mutators ----------------------------------------------------------------


def byte_mutant(data, rng):
    b = bytearray(data)
    op = rng.randrange(4)
    if op == 0:  # a few bit flips
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b), "flip"
    if op == 1:
        return bytes(b[: rng.randrange(len(b))]), "truncate"
    start = rng.randrange(len(b))
    n = min(len(b) - start, rng.choice([1, 8, 64, 512, 4096]))
    if op == 2:
        b[start : start + n] = bytes(n)
        return bytes(b), "zero-block"
    dst = rng.randrange(len(b))
    b[dst : dst + n] = b[start : start + n]
    return bytes(b[: len(data)]), "dup-block"


def objects(f):
    out = []
    f.visititems(lambda name, obj: out.append((name, obj)))
    return out


JSON_BAD = ["x", -1, 1e300, [], {}, None, True, "9" * 400, -2**62]


def mutate_json(cfg, rng):
    """One change somewhere in a JSON tree: a field of the wrong type or value, or removed."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                paths.append(path + [k])
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node[:5]):
                paths.append(path + [i])
                walk(v, path + [i])

    walk(cfg, [])
    if not paths:
        return cfg, "json-empty"
    path = rng.choice(paths)
    parent = cfg
    for k in path[:-1]:
        parent = parent[k]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
        return cfg, f"json-del {'/'.join(map(str, path))}"
    parent[path[-1]] = rng.choice(JSON_BAD)
    return cfg, f"json-set {'/'.join(map(str, path))}"


def semantic_mutant(src, dst, rng):
    """Rewrites one dataset or attribute of a copy of src with h5py; returns a label."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        objs = [(n, o) for n, o in objects(f) if isinstance(o, h5py.Dataset)]
        op = rng.randrange(10)
        if op <= 1 or not objs:  # the config attribute
            if op == 0 or "config" not in f.attrs:
                f.attrs["config"] = rng.choice(["", "{", "[1,2]", "null", '{"model": 3}', "\x00\xff"])
                return "config-garbage"
            cfg, what = mutate_json(json.loads(f.attrs["config"]), rng)
            f.attrs["config"] = json.dumps(cfg)
            return what
        if op == 2:  # a root or dataset attribute removed or retyped
            holders = [f] + [o for _, o in objs]
            h = rng.choice(holders)
            if not h.attrs:
                return "no-attrs"
            a = rng.choice(list(h.attrs))
            if rng.random() < 0.5:
                del h.attrs[a]
                return f"attr-del {h.name}@{a}"
            h.attrs[a] = rng.choice([np.int64(-5), np.float64(np.nan), "garbage", np.zeros(3)])
            return f"attr-set {h.name}@{a}"
        name, ds = rng.choice(objs)
        data = ds[()]
        del f[name]
        if op == 3:
            return f"missing {name}"
        if op == 4:  # another dtype
            new = rng.choice([np.int8, np.int64, np.float32, np.float64, "S4"])
            try:
                f.create_dataset(name, data=np.asarray(data).astype(new))
            except (ValueError, TypeError):
                f.create_dataset(name, data=np.zeros(3, dtype=np.int8))
            return f"dtype {name} {new}"
        if op == 5:  # another rank
            arr = np.asarray(data)
            f.create_dataset(name, data=arr.reshape(-1) if arr.ndim > 1 else arr.reshape(1, -1, 1))
            return f"rank {name}"
        if op == 6:  # a zero extent
            arr = np.asarray(data)
            shape = list(arr.shape) or [1]
            shape[rng.randrange(len(shape))] = 0
            f.create_dataset(name, shape=tuple(shape), dtype=arr.dtype if arr.dtype.kind in "fiu" else "f8")
            return f"zero-dim {name}"
        if op == 7:  # a huge extent claimed (chunked, nothing allocated on disk)
            arr = np.asarray(data)
            shape = list(arr.shape) or [1]
            shape[rng.randrange(len(shape))] = rng.choice([2**31, 10**12, 2**40])
            f.create_dataset(name, shape=tuple(shape), dtype="f4", chunks=tuple(1 for _ in shape))
            return f"huge-dim {name}"
        arr = np.array(data, copy=True)
        if arr.size == 0 or arr.dtype.kind not in "fiu":
            f.create_dataset(name, data=arr)
            return "non-numeric"
        flat = arr.reshape(-1)
        i = rng.randrange(flat.size)
        if op == 8:  # NaN / Inf / extreme values
            if arr.dtype.kind == "f":
                flat[i] = rng.choice([np.nan, np.inf, -np.inf, 1e38, -1e38])
            else:
                flat[i] = rng.choice([-1, -2**31, 2**31 - 1, np.iinfo(arr.dtype).max])
        else:  # integers out of range, or every entry changed
            flat[:] = rng.choice([-1, 0, 7, 10**6]) if arr.dtype.kind in "iu" else flat * -1e6
        f.create_dataset(name, data=arr)
        return f"values {name}"


# ---- runs ----------------------------------------------------------------------


def classify(cmd, rc, err, mutant_name):
    text = err.decode(errors="replace")
    if rc == "hang":
        return "hang"
    if rc < 0:
        return f"crash (signal {-rc})"
    if "AddressSanitizer" in text or "runtime error:" in text or "LeakSanitizer" in text:
        return "sanitizer"
    if rc == 0:
        return None
    if rc not in (1, 2):
        return f"exit {rc}"
    lines = [l for l in text.splitlines() if l.strip()]
    if "internal error" in text:
        return "internal error"
    if len(lines) != 1:
        return "not one line"
    if rc == 2 and mutant_name not in lines[0]:  # a bad input names the file (a run error need not)
        return "does not name the file"
    return None


def run(cmd, cwd, timeout):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        return "hang", b""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--mutants", type=int, default=0, help="stop after N mutants (0: use --seconds)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default="out/fuzz")
    a = ap.parse_args()
    bin_dir = os.path.abspath(a.bin)
    os.makedirs(a.out, exist_ok=True)
    fail_dir = os.path.join(a.out, "failures")
    os.makedirs(fail_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="symlearn-fuzz.")
    rng = random.Random(a.seed)
    try:
        corpus = make_corpus(bin_dir, work)
        blobs = {n: open(os.path.join(work, n), "rb").read() for n in corpus}
        names = sorted(corpus)
        start, mutants, runs, failures = time.time(), 0, 0, []
        counts = {}
        log = open(os.path.join(a.out, "failures.txt"), "w")  # a line per failure, as found
        pool = ThreadPoolExecutor(a.jobs)
        while (a.mutants and mutants < a.mutants) or (not a.mutants and time.time() - start < a.seconds):
            # A batch of mutants, each run by every reader of its kind, in parallel.
            batch = []
            for _ in range(a.jobs * 4):
                if a.mutants and mutants >= a.mutants:
                    break
                src = rng.choice(names)
                mname = f"mut{mutants:06d}-{src}"
                path = os.path.join(work, mname)
                if rng.random() < 0.5:
                    data, label = byte_mutant(blobs[src], rng)
                    open(path, "wb").write(data)
                else:
                    try:
                        label = semantic_mutant(os.path.join(work, src), path, rng)
                    except Exception as e:  # h5py could not write this mutation: fall back to bytes
                        data, label = byte_mutant(blobs[src], rng)
                        open(path, "wb").write(data)
                        label += f" (h5py: {type(e).__name__})"
                mutants += 1
                batch.append((mname, path, src, label))
            jobs = [(m, p, s, l, cmd, pool.submit(run, cmd, work, a.timeout))
                    for m, p, s, l in batch for cmd in readers(bin_dir, corpus[s], m)]
            for mname, path, src, label, cmd, fut in jobs:
                rc, err = fut.result()
                runs += 1
                verdict = classify(cmd, rc, err, mname)
                key = "ok" if verdict is None else verdict
                counts[key] = counts.get(key, 0) + 1
                if verdict:
                    shutil.copyfile(path, os.path.join(fail_dir, mname))
                    tool = os.path.basename(cmd[0])
                    msg = err.decode(errors="replace").strip().replace("\n", " | ")[:300]
                    failures.append(f"{verdict}: {tool} {' '.join(cmd[1:])} [{label}] {msg}")
                    log.write(failures[-1] + "\n")
                    log.flush()
            for _, path, _, _ in batch:
                os.unlink(path)
        log.close()
        took = time.time() - start
        print(f"fuzz: {mutants} mutants, {runs} runs in {took:.0f} s (seed {a.seed}); "
              + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
        for line in failures[:20]:
            print("  " + line)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
