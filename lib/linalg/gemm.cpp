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

namespace {
// A -march=native build on an AVX-512 CPU gives Eigen 512-bit kernels. Where
// OpenBLAS runs narrower ones on that CPU (its Haswell kernels: 0.3.21 does
// not recognise AMD's AVX-512 cores, and OPENBLAS_CORETYPE may say so), Eigen
// measured 1.2-2.7x faster at every product shape symlearn uses, float and
// double (lib/linalg/README.md), so it takes them all.
bool eigen_kernels_wider() {
#ifdef __AVX512F__
  static const bool wider = [] {
    const std::string core = openblas_get_corename();
    return core != "SkylakeX" && core != "Cooperlake" && core != "SapphireRapids";
  }();
  return wider;
#else
  return false;
#endif
}
}  // namespace

bool uses_blas(Eigen::Index m, Eigen::Index n, Eigen::Index k) {
  const long threshold = blas_threshold();
  if (threshold == 0) return true;  // forced, for the benchmark and tests
  if (eigen_kernels_wider()) return false;
  // A result with one row or one column is a matrix-vector product: Eigen
  // runs a GEMV kernel there, OpenBLAS's dgemm does not, and Eigen measured
  // 1.5-4x faster at every size (README.md). Likewise an outer product or a
  // very thin inner dimension (k < 8) with a small result, where dgemm spends
  // its time packing (meta-train's profile: [68x1]x[1x70] products).
  if (m == 1 || n == 1 || (k < 8 && m * n <= 16384)) return false;
  // In double so that huge sizes cannot overflow the count.
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= static_cast<double>(threshold);
}

Eigen::MatrixXd gemm(const ConstRef& a, const ConstRef& b, bool transpose_a, bool transpose_b) {
  Eigen::MatrixXd c(transpose_a ? a.cols() : a.rows(), transpose_b ? b.rows() : b.cols());
  gemm_into(c, a, b, transpose_a, transpose_b);
  return c;
}

namespace {
void blas_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, int lda, const double* b, int ldb,
               double beta, double* c, int ldc) {
  cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda,
              b, ldb, beta, c, ldc);
}
void blas_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
               float beta, float* c, int ldc) {
  cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda,
              b, ldb, beta, c, ldc);
}

template <class S>
void gemm_into_impl(Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> c,
                    const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& a,
                    const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& b, bool transpose_a,
                    bool transpose_b, S alpha, S beta) {
  const Eigen::Index m = transpose_a ? a.cols() : a.rows();
  const Eigen::Index k = transpose_a ? a.rows() : a.cols();
  const Eigen::Index kb = transpose_b ? b.cols() : b.rows();
  const Eigen::Index n = transpose_b ? b.rows() : b.cols();
  if (k != kb || c.rows() != m || c.cols() != n) {
    throw std::invalid_argument("gemm: shapes " + shape(m, k) + " and " + shape(kb, n) + " do not fit" +
                                (k == kb ? " the result " + shape(c.rows(), c.cols()) : std::string()));
  }
  if (m == 0 || n == 0) return;
  const bool use_blas = k > 0 && alpha != S(0) && uses_blas(m, n, k) && fits_blas_int(m) && fits_blas_int(n) &&
                        fits_blas_int(k) && fits_blas_int(a.outerStride()) && fits_blas_int(b.outerStride()) &&
                        fits_blas_int(c.outerStride());
  if (use_blas) {
    configure_blas_threads();
    // Column-major storage; the leading dimensions are the outer strides.
    // With beta = 0 BLAS does not read C (no zeroing pass first).
    blas_gemm(transpose_a, transpose_b, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a.data(),
              static_cast<int>(a.outerStride()), b.data(), static_cast<int>(b.outerStride()), beta, c.data(),
              static_cast<int>(c.outerStride()));
    return;
  }
  if (beta == S(0)) c.setZero();
  else if (beta != S(1)) c *= beta;
  if (k == 0 || alpha == S(0)) return;  // an empty inner dimension adds nothing

  if (k < 8) {
    // Thin inner dimension: k vectorised column updates per result column
    // (Eigen's lazy product is coefficient-wise here, measured 10x slower).
    for (Eigen::Index j = 0; j < n; ++j)
      for (Eigen::Index p = 0; p < k; ++p) {
        const S coeff = alpha * (transpose_b ? b(j, p) : b(p, j));
        if (transpose_a) c.col(j) += coeff * a.row(p).transpose();
        else c.col(j) += coeff * a.col(p);
      }
    return;
  }
  if (!transpose_a && !transpose_b) c.noalias() += alpha * a * b;
  else if (transpose_a && !transpose_b) c.noalias() += alpha * a.transpose() * b;
  else if (!transpose_a && transpose_b) c.noalias() += alpha * a * b.transpose();
  else c.noalias() += alpha * a.transpose() * b.transpose();
}

}  // namespace

void gemm_into(Eigen::Ref<Eigen::MatrixXd> c, const ConstRef& a, const ConstRef& b, bool transpose_a,
               bool transpose_b, double alpha, double beta) {
  gemm_into_impl<double>(c, a, b, transpose_a, transpose_b, alpha, beta);
}

void gemm_into(Eigen::Ref<Eigen::MatrixXf> c, const ConstRefF& a, const ConstRefF& b, bool transpose_a,
               bool transpose_b, float alpha, float beta) {
  gemm_into_impl<float>(c, a, b, transpose_a, transpose_b, alpha, beta);
}

}  // namespace symlearn::linalg
