# Thin wrapper over CMake. Every target first makes sure the Debian packages
# are there (cmake/install-deps.sh installs whichever are missing).
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test fuzz demo bench repro-msr repro-sparse repro-sharing repro-sharing-gaussian repro-lconv repro-lie-discovery repro-lgn repro-lgn-sterile sanitize clean

all: build

deps:
	@cmake/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Every unit and end-to-end test (a few minutes on 2 cores).
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The mutation fuzzer over every reader, under AddressSanitizer + UBSan
# (build-asan/), for FUZZ_SECONDS (default 1800) of wall time; failures in
# out/fuzz/failures.txt. Not part of `make test` (which runs a 200-mutant slice).
fuzz: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSYMLEARN_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/cmake/lsan.supp:print_suppressions=0 /usr/bin/python3 tests/fuzz/fuzz.py \
	  --bin build-asan/bin --seconds $(or $(FUZZ_SECONDS),1800) --seed $(or $(SEED),1) --timeout 60 --out out/fuzz

# The main job on built-in defaults.
demo: build
	@BIN=$(BUILD)/bin sh tests/demo.sh

# Throughput and memory of the main jobs; not part of `make test`.
# With the PyTorch peers installed (cmake/install-deps.sh --with-peers), a side-by-side table too.
bench: build
	@BIN=$(BUILD)/bin BENCH=$(BUILD)/bench PEERS=$(CURDIR)/../shared/peers sh tests/bench/run.sh

# The MSR paper's synthetic experiment (minutes; STEPS=10000 for the long budget).
repro-msr: build
	@BIN=$(BUILD)/bin STEPS=$(or $(STEPS),1000) sh tests/repro/msr_synthetic.sh

# The sparse-MSR paper's Table I, with and without exclusive sparsity (tens of minutes).
repro-sparse: build
	@BIN=$(BUILD)/bin STEPS=$(or $(STEPS),2000) sh tests/repro/sparse_msr.sh

# Learned parameter sharing on sum-of-numbers (Yeh et al. 2022): lengths 2-10, ranks 1-2, 5 seeds; the original
# protocol, symlearn's refined method and the baselines (hours on 2 cores; resumable per cell, results in
# out/repro-sharing-yeh2022). PROTOCOL=symlearn: the older default schedule (~12 min).
repro-sharing: build
	@BIN=$(BUILD)/bin PROTOCOL=$(or $(PROTOCOL),yeh2022) sh tests/repro/sharing_sum.sh

# Gaussian shared means (Yeh et al. 2022, Table 1): K = 2, 4, 6, 200 trials, both protocols (~10 min; resumable).
repro-sharing-gaussian: build
	@BIN=$(BUILD)/bin sh tests/repro/sharing_gaussian.sh

# L-conv vs CNN / FC baselines on plain, rotated and rotated+scrambled Fashion-MNIST, the authors' protocol
# (hours on 2 cores; resumable per cell, results in out/repro-lconv-dehmamy2021/cells.jsonl).
# PROTOCOL=symlearn: the older quick table (builtin glyphs, a Fashion-MNIST subset; minutes).
repro-lconv: build
	@BIN=$(BUILD)/bin PROTOCOL=$(or $(PROTOCOL),dehmamy2021) sh tests/repro/lconv.sh

# Generator discovery with a ground truth (L-conv's appendix C): |cos| with the true generator (minutes; resumable).
repro-lie-discovery: build
	@BIN=$(BUILD)/bin sh tests/repro/lie_discovery.sh

# Linear Group Networks (Theodosis et al. 2023), the sterile patch experiments: 11 transforms x 3 sources x
# with/without the unit-norm projection (minutes; resumable, results in out/repro-lgn-sterile/cells.jsonl).
repro-lgn-sterile: build
	@BIN=$(BUILD)/bin sh tests/repro/lgn_sterile.sh

# Linear Group Networks on Fashion-MNIST: lgn (mu 0.001), mu 0, the singular-value loss, the unstructured net, the
# reconstruction variant (hours on 2 cores; resumable per cell, results in out/repro-lgn/cells.jsonl).
repro-lgn: build
	@BIN=$(BUILD)/bin sh tests/repro/lgn.sh

# The same test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSYMLEARN_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/cmake/lsan.supp:print_suppressions=0 ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) build-asan
