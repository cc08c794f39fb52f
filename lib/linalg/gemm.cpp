#include "linalg/gemm.hpp"

#include <cblas.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

namespace symlearn::linalg {
namespace {

// Measured on the 2-core target machine, see lib/linalg/README.md: OpenBLAS
// (AVX2 kernels) ties Eigen (SSE2 build) at 8^3 and wins from 10^3 on.
constexpr long kDefaultBlasThreshold = 10L * 10L * 10L;

std::atomic<long> g_blas_threshold{kDefaultBlasThreshold};
std::once_flag g_blas_threads_once;

// The library parallelises over tasks itself; a multi-threaded OpenBLAS
// inside each of those threads would oversubscribe the cores (and measured
// slower even when alone, README.md). An explicit OPENBLAS_NUM_THREADS wins.
void configure_blas_threads() {
  std::call_once(g_blas_threads_once, [] {
    if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) openblas_set_num_threads(1);
  });
}

std::string shape(Eigen::Index r, Eigen::Index c) {
  return "[" + std::to_string(r) + "," + std::to_string(c) + "]";
}

bool fits_blas_int(Eigen::Index v) { return v <= static_cast<Eigen::Index>(INT_MAX); }

}  // namespace

long blas_threshold() { return g_blas_threshold.load(std::memory_order_relaxed); }

void set_blas_threshold(long flops) { g_blas_threshold.store(flops, std::memory_order_relaxed); }

Eigen::MatrixXd gemm(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, bool transpose_a,
                     bool transpose_b) {
  const Eigen::Index m = transpose_a ? a.cols() : a.rows();
  const Eigen::Index k = transpose_a ? a.rows() : a.cols();
  const Eigen::Index kb = transpose_b ? b.cols() : b.rows();
  const Eigen::Index n = transpose_b ? b.rows() : b.cols();
  if (k != kb) {
    throw std::invalid_argument("gemm: shapes " + shape(m, k) + " and " + shape(kb, n) +
                                " do not fit");
  }

  Eigen::MatrixXd c(m, n);
  if (m == 0 || n == 0) return c;
  if (k == 0) {  // an empty inner dimension: the product is all zeros
    c.setZero();
    return c;
  }

  // In double so that huge sizes cannot overflow the count.
  const double flops = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const long threshold = blas_threshold();
  // A result with one row or one column is a matrix-vector product: Eigen
  // runs a GEMV kernel there, OpenBLAS's dgemm does not, and Eigen measured
  // 1.5-4x faster at every size (README.md). Threshold 0 still forces BLAS.
  const bool vector_product = m == 1 || n == 1;
  const bool wanted =
      threshold == 0 || (!vector_product && flops >= static_cast<double>(threshold));
  const bool use_blas = wanted && fits_blas_int(m) && fits_blas_int(n) && fits_blas_int(k) &&
                        fits_blas_int(a.rows()) && fits_blas_int(b.rows());
  if (use_blas) {
    configure_blas_threads();
    // Eigen's default storage is column-major; lda/ldb are the stored row counts.
    cblas_dgemm(CblasColMajor, transpose_a ? CblasTrans : CblasNoTrans,
                transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0, a.data(), static_cast<int>(a.rows()), b.data(),
                static_cast<int>(b.rows()), 0.0, c.data(), static_cast<int>(m));
    return c;
  }

  if (!transpose_a && !transpose_b) {
    c.noalias() = a * b;
  } else if (transpose_a && !transpose_b) {
    c.noalias() = a.transpose() * b;
  } else if (!transpose_a && transpose_b) {
    c.noalias() = a * b.transpose();
  } else {
    c.noalias() = a.transpose() * b.transpose();
  }
  return c;
}

}  // namespace symlearn::linalg
