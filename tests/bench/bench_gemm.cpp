// Times symlearn::linalg::gemm with the Eigen kernel and with OpenBLAS (1 and
// 2 threads) over square and MSR-shaped products, to choose blas_threshold().
// Usage: build-ad/bench/bench_gemm   (results go in lib/linalg/README.md)
#include "linalg/gemm.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using symlearn::linalg::gemm;
using symlearn::linalg::set_blas_threshold;
using Clock = std::chrono::steady_clock;

volatile double g_sink = 0;  // keeps the products from being optimised away

struct Case {
  std::string label;
  long m, k, n;
  bool ta, tb;
};

// OpenBLAS is linked privately into libsymlearn, so look its thread setter up
// at run time instead of linking it here.
void set_blas_threads(int n) {
  using Fn = void (*)(int);
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn == nullptr) {
    std::fprintf(stderr, "bench_gemm: openblas_set_num_threads not found\n");
    return;
  }
  fn(n);
}

// Median microseconds per call: calibrate a batch of >= 1 ms, then time
// batches until >= 25 ms in all (and at least 7 batches).
double time_us(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, bool ta, bool tb) {
  auto run = [&](long reps) {
    const auto t0 = Clock::now();
    for (long r = 0; r < reps; ++r) g_sink = g_sink + gemm(a, b, ta, tb)(0, 0);
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };
  run(3);  // warm-up: caches, OpenBLAS thread pool
  long reps = 1;
  while (run(reps) < 1000.0) reps *= 2;
  std::vector<double> per_call;
  double total = 0;
  while (total < 25000.0 || per_call.size() < 7) {
    const double us = run(reps);
    total += us;
    per_call.push_back(us / static_cast<double>(reps));
  }
  std::nth_element(per_call.begin(), per_call.begin() + per_call.size() / 2, per_call.end());
  return per_call[per_call.size() / 2];
}

}  // namespace

int main() {
  std::vector<Case> cases;
  for (long s : {2, 4, 8, 10, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}) {
    cases.push_back({std::to_string(s) + "^3", s, s, s, false, false});
  }
  // Shapes of the MSR/MAML layers, forward and the transposed backward products.
  cases.push_back({"[32x70]*[70x68]", 32, 70, 68, false, false});
  cases.push_back({"[32x68]*[70x68]^T", 32, 68, 70, false, true});
  cases.push_back({"[32x70]^T*[32x68]", 70, 32, 68, true, false});
  cases.push_back({"[4760x3]*[3x1]", 4760, 3, 1, false, false});
  cases.push_back({"[1x4760]*[4760x3]", 1, 4760, 3, false, false});
  cases.push_back({"[4760x3]^T*[4760x1]", 3, 4760, 1, true, false});
  cases.push_back({"[4760x1]*[3x1]^T", 4760, 1, 3, false, true});
  cases.push_back({"[3x4760]*[4760x3]^T", 3, 4760, 3, false, true});
  cases.push_back({"[2x70]*[70x68]", 2, 70, 68, false, false});
  // Larger matrix-vector products: where Eigen's GEMV path matters.
  cases.push_back({"[4760x68]*[68x1]", 4760, 68, 1, false, false});
  cases.push_back({"[1x256]*[256x256]", 1, 256, 256, false, false});
  cases.push_back({"[256x256]*[256x2]", 256, 256, 2, false, false});

  std::printf("default threshold: %ld multiply-adds (m*n*k)\n", symlearn::linalg::blas_threshold());
  const long library_threshold = symlearn::linalg::blas_threshold();
  std::printf("%-22s %11s %10s %10s %10s %10s %7s %8s\n", "product", "m*n*k", "Eigen us",
              "BLAS1t us", "Eig/BLAS1", "BLAS2t us", "faster", "library");

  Eigen::MatrixXd warm = Eigen::MatrixXd::Random(64, 64);
  set_blas_threshold(0);
  gemm(warm, warm);  // first BLAS call: the library pins OpenBLAS to 1 thread here

  for (const Case& c : cases) {
    const Eigen::MatrixXd a =
        c.ta ? Eigen::MatrixXd::Random(c.k, c.m) : Eigen::MatrixXd::Random(c.m, c.k);
    const Eigen::MatrixXd b =
        c.tb ? Eigen::MatrixXd::Random(c.n, c.k) : Eigen::MatrixXd::Random(c.k, c.n);

    set_blas_threshold(LONG_MAX);
    const double eigen_us = time_us(a, b, c.ta, c.tb);
    set_blas_threshold(0);
    set_blas_threads(1);
    const double blas1_us = time_us(a, b, c.ta, c.tb);
    set_blas_threads(2);
    const double blas2_us = time_us(a, b, c.ta, c.tb);
    set_blas_threads(1);

    const long flops = c.m * c.n * c.k;
    // The library's own rule (gemm.cpp), at its default threshold.
    set_blas_threshold(library_threshold);
    const bool library_blas = symlearn::linalg::uses_blas(c.m, c.n, c.k);
    std::printf("%-22s %11ld %10.2f %10.2f %10.2f %10.2f %7s %8s\n", c.label.c_str(), flops,
                eigen_us, blas1_us, eigen_us / blas1_us, blas2_us,
                eigen_us <= blas1_us ? "Eigen" : "BLAS", library_blas ? "BLAS" : "Eigen");
  }
  set_blas_threshold(library_threshold);
  return g_sink == 12345.678 ? 1 : 0;  // read the sink once
}
