#!/usr/bin/python3
"""Regression cases the fuzzer found (tests/fuzz/regressions/caseNNNNNN-SOURCE.h5:
mutants of the corpus file SOURCE that crashed, hung or were misreported):
each is run by every reader of its kind, against a freshly made corpus, and
must pass the fuzzer's checks (fuzz.py). Exit status 1 otherwise.

  tests/fuzz/regressions.py --bin build/bin
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    a = ap.parse_args()
    bin_dir = os.path.abspath(a.bin)
    cases_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")
    work = tempfile.mkdtemp(prefix="symlearn-regressions.")
    try:
        corpus = fuzz.make_corpus(bin_dir, work)
        bad = runs = 0
        for case in sorted(os.listdir(cases_dir)):
            source = case.split("-", 1)[1]
            shutil.copyfile(os.path.join(cases_dir, case), os.path.join(work, case))
            for cmd in fuzz.readers(bin_dir, corpus[source], case):
                rc, err = fuzz.run(cmd, work, 60)
                runs += 1
                verdict = fuzz.classify(cmd, rc, err, case)
                if verdict:
                    bad += 1
                    print(f"{verdict}: {' '.join(os.path.basename(c) for c in cmd)}: "
                          f"{err.decode(errors='replace').strip()[:300]}")
        print(f"regressions: {len(os.listdir(cases_dir))} cases, {runs} runs, {bad} failed")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
