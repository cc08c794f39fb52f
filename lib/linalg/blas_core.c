/* Linked into every executable (not into libsymlearn): picks OpenBLAS's
 * kernels before OpenBLAS does.
 *
 * Debian's OpenBLAS 0.3.21 does not know AMD's AVX-512 cores (Zen 4 and
 * later) and runs its Haswell (AVX2) kernels there; its SkylakeX kernels are
 * 1.3-2x faster on those machines for every product shape symlearn uses
 * (lib/linalg/README.md). OpenBLAS chooses once, in its library initialiser,
 * from the OPENBLAS_CORETYPE environment variable, so the choice has to be
 * made before any shared library initialiser runs: an executable's
 * .preinit_array is the one place that runs that early. A user's own
 * OPENBLAS_CORETYPE always wins; Intel CPUs are left to OpenBLAS, which
 * recognises them. */
#include <stdlib.h>

static void symlearn_pick_blas_core(int argc, char** argv, char** envp) {
  (void)argc;
  (void)argv;
  (void)envp;
  if (getenv("OPENBLAS_CORETYPE") != NULL) return;
  __builtin_cpu_init();
  if (__builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 0);
}

__attribute__((section(".preinit_array"), used)) static void (*const symlearn_preinit)(int, char**, char**) =
    symlearn_pick_blas_core;
