#include "linalg/gemm.hpp"

#include <cblas.h>

#include <algorithm>
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

// A thin inner dimension (k <= kThinK): C is written once, block of rows by
// block of rows, each column a sum of k scaled columns of op(A), with the
// block of op(A) in cache. OpenBLAS would first zero (or scale) C in a
// separate pass and pack both operands: for the image models' big products
// with k = 8..10 (a third of an L-conv step) that was most of the time.
constexpr Eigen::Index kThinK = 16;

template <class S>
void thin_product(Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> c,
                  const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& a,
                  const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& b, bool transpose_a,
                  bool transpose_b, S alpha, S beta) {
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::Index m = c.rows(), n = c.cols(), k = transpose_a ? a.rows() : a.cols();
  Mat at;  // op(A) with contiguous columns when A is transposed
  if (transpose_a) at = a.transpose();
  const S* A = transpose_a ? at.data() : a.data();
  const Eigen::Index lda = transpose_a ? m : a.outerStride(), ldc = c.outerStride();
  const Mat coef = alpha * (transpose_b ? Mat(b.transpose()) : Mat(b));  // k x n, contiguous
  constexpr Eigen::Index kRows = 512;  // 512 x 16 entries of op(A) stay in cache across the columns
  constexpr int kTile = 32;
  using Tile = Eigen::Array<S, kTile, 1>;
  using TileMap = Eigen::Map<Tile, Eigen::Unaligned>;
  using ConstTileMap = Eigen::Map<const Tile, Eigen::Unaligned>;
  for (Eigen::Index r0 = 0; r0 < m; r0 += kRows) {
    const Eigen::Index rows = std::min(kRows, m - r0);
    for (Eigen::Index j = 0; j < n; ++j) {
      S* __restrict cj = c.data() + j * ldc + r0;
      const S* cf = coef.data() + j * k;
      // Tiles of 32 rows summed in registers (a store per entry, not k of
      // them: reloading C after each term serialised on store forwarding).
      Eigen::Index r = 0;
      for (; r + kTile <= rows; r += kTile) {
        Tile acc = beta == S(0) ? Tile::Zero() : Tile(beta * TileMap(cj + r));
        for (Eigen::Index p = 0; p < k; ++p) acc += cf[p] * ConstTileMap(A + p * lda + r0 + r);
        TileMap(cj + r) = acc;
      }
      for (; r < rows; ++r) {
        S acc = beta == S(0) ? S(0) : beta * cj[r];
        for (Eigen::Index p = 0; p < k; ++p) acc += cf[p] * A[p * lda + r0 + r];
        cj[r] = acc;
      }
    }
  }
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
  if (k > 0 && k <= kThinK && m >= 64 && alpha != S(0) && blas_threshold() != 0) {
    thin_product<S>(c, a, b, transpose_a, transpose_b, alpha, beta);
    return;
  }
  const bool use_blas = k > 0 && alpha != S(0) && uses_blas(m, n, k) && fits_blas_int(m) && fits_blas_int(n) &&
                        fits_blas_int(k) && fits_blas_int(a.outerStride()) && fits_blas_int(b.outerStride()) &&
                        fits_blas_int(c.outerStride());
  if (use_blas) {
    configure_blas_threads();
    // Column-major storage; the leading dimensions are the outer strides.
    // (OpenBLAS zeroes or scales C in a pass of its own unless beta = 1.)
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
