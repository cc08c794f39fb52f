#include "linalg/gemm.hpp"

#include <cblas.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <mutex>
#include <type_traits>
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

// A thin inner dimension (uses_thin below): C is written once, from register
// tiles of NR vectors of rows by NC columns, each the sum of k products of a
// piece of op(A) and a broadcast coefficient; the block of op(A) stays in
// cache across the columns. Register blocking over 6 columns loads each
// piece of A once for six of them (the loads, not the multiply-adds, were
// the limit of one column at a time). OpenBLAS would first zero (or scale) C
// in a separate pass and pack both operands: for the image models' products
// with k = 8..10 and MSR's with k = 16..30 that was most of their time.

// The tile kernels' vector: an AVX register where the build has AVX (also on
// AVX-512 builds: not measured there with 64-byte vectors), an SSE one else.
#ifdef __AVX__
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif

template <class S>
struct Lanes {
  typedef S Vec __attribute__((vector_size(kVecBytes)));
  static constexpr int n = kVecBytes / sizeof(S);
  static Vec load(const S* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(S* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }
  static Vec splat(S s) {
#ifdef __AVX__
    if constexpr (std::is_same_v<S, float>) return _mm256_set1_ps(s);
    else return _mm256_set1_pd(s);
#else
    Vec v;  // GCC builds this from inserts: only the portable build comes here
    for (int i = 0; i < n; ++i) v[i] = s;
    return v;
#endif
  }
  // Keeps a loaded piece of A in its register: without it GCC folds the load
  // into every multiply-add that uses it (NC loads instead of one).
  static void pin(Vec& v) {
#if defined(__x86_64__)
    asm("" : "+x"(v));
#else
    (void)v;
#endif
  }
};

// Where op(B)'s coefficients lie: op(B)(p, c) = b[c * cs + p * ps].
template <class S>
struct Coef {
  const S* b;
  Eigen::Index cs, ps;
  Coef shifted(Eigen::Index columns) const { return {b + columns * cs, cs, ps}; }
};

// One register tile: C[0:NR*L, 0:NC] = alpha sum_p A[:, p] op(B)(p, c) + beta C.
template <class S, int NR, int NC>
inline void thin_tile(const S* A, Eigen::Index lda, Eigen::Index k, Coef<S> cf, S* C, Eigen::Index ldc, S alpha,
                      S beta) {
  using L = Lanes<S>;
  typename L::Vec acc[NR][NC] = {};
  for (Eigen::Index p = 0; p < k; ++p) {
    typename L::Vec a[NR];
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) {
      a[r] = L::load(A + p * lda + r * L::n);
      L::pin(a[r]);
    }
#pragma GCC unroll 8
    for (int c = 0; c < NC; ++c) {
      const typename L::Vec b = L::splat(cf.b[c * cf.cs + p * cf.ps]);
#pragma GCC unroll 8
      for (int r = 0; r < NR; ++r) acc[r][c] += a[r] * b;
    }
  }
  const typename L::Vec va = L::splat(alpha), vb = L::splat(beta);
#pragma GCC unroll 8
  for (int c = 0; c < NC; ++c)
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) {
      S* to = C + c * ldc + r * L::n;
      typename L::Vec v = alpha == S(1) ? acc[r][c] : va * acc[r][c];
      if (beta != S(0)) v += vb * L::load(to);
      L::store(to, v);
    }
}

// Rows [0, rows) of NC columns: tiles of 2 vectors, then of 1; the last
// rows < one vector go through a zero-padded copy (`tail`: those rows of A,
// L x k, prepared once per block of rows) so that they too run vectorised.
template <class S, int NC>
void thin_columns(const S* A, Eigen::Index lda, Eigen::Index k, Eigen::Index rows, const S* tail, Coef<S> cf, S* C,
                  Eigen::Index ldc, S alpha, S beta) {
  constexpr int L = Lanes<S>::n;
  Eigen::Index r = 0;
  for (; r + 2 * L <= rows; r += 2 * L) thin_tile<S, 2, NC>(A + r, lda, k, cf, C + r, ldc, alpha, beta);
  for (; r + L <= rows; r += L) thin_tile<S, 1, NC>(A + r, lda, k, cf, C + r, ldc, alpha, beta);
  if (r == rows) return;
  S c_tail[L * NC] = {};
  for (int c = 0; c < NC; ++c)
    for (Eigen::Index i = r; i < rows; ++i) c_tail[c * L + (i - r)] = C[c * ldc + i];
  thin_tile<S, 1, NC>(tail, L, k, cf, c_tail, L, alpha, beta);
  for (int c = 0; c < NC; ++c)
    for (Eigen::Index i = r; i < rows; ++i) C[c * ldc + i] = c_tail[c * L + (i - r)];
}

// out (cols x rows, ldo) = in (rows x cols, ldi)^T, column-major. In 8 x 8
// blocks of AVX registers for float (Eigen's transpose writes one strided
// entry at a time, slower than the product it feeds); entry by entry else.
template <class S>
void transpose_into(const S* in, Eigen::Index ldi, Eigen::Index rows, Eigen::Index cols, S* out, Eigen::Index ldo) {
  Eigen::Index j0 = 0;
#ifdef __AVX__
  if constexpr (std::is_same_v<S, float>) {
    for (j0 = 0; j0 + 8 <= cols; j0 += 8)
      for (Eigen::Index i0 = 0; i0 + 8 <= rows; i0 += 8) {
        __m256 r[8], t[8];
        for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(in + (j0 + j) * ldi + i0);  // column j0 + j
        t[0] = _mm256_unpacklo_ps(r[0], r[1]), t[1] = _mm256_unpackhi_ps(r[0], r[1]);
        t[2] = _mm256_unpacklo_ps(r[2], r[3]), t[3] = _mm256_unpackhi_ps(r[2], r[3]);
        t[4] = _mm256_unpacklo_ps(r[4], r[5]), t[5] = _mm256_unpackhi_ps(r[4], r[5]);
        t[6] = _mm256_unpacklo_ps(r[6], r[7]), t[7] = _mm256_unpackhi_ps(r[6], r[7]);
        r[0] = _mm256_shuffle_ps(t[0], t[2], 0x44), r[1] = _mm256_shuffle_ps(t[0], t[2], 0xEE);
        r[2] = _mm256_shuffle_ps(t[1], t[3], 0x44), r[3] = _mm256_shuffle_ps(t[1], t[3], 0xEE);
        r[4] = _mm256_shuffle_ps(t[4], t[6], 0x44), r[5] = _mm256_shuffle_ps(t[4], t[6], 0xEE);
        r[6] = _mm256_shuffle_ps(t[5], t[7], 0x44), r[7] = _mm256_shuffle_ps(t[5], t[7], 0xEE);
        t[0] = _mm256_permute2f128_ps(r[0], r[4], 0x20), t[1] = _mm256_permute2f128_ps(r[1], r[5], 0x20);
        t[2] = _mm256_permute2f128_ps(r[2], r[6], 0x20), t[3] = _mm256_permute2f128_ps(r[3], r[7], 0x20);
        t[4] = _mm256_permute2f128_ps(r[0], r[4], 0x31), t[5] = _mm256_permute2f128_ps(r[1], r[5], 0x31);
        t[6] = _mm256_permute2f128_ps(r[2], r[6], 0x31), t[7] = _mm256_permute2f128_ps(r[3], r[7], 0x31);
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(out + (i0 + i) * ldo + j0, t[i]);  // row i0 + i
      }
    // The edges (rows or columns past the last multiple of 8) below.
    for (Eigen::Index j = 0; j < j0; ++j)
      for (Eigen::Index i = rows - rows % 8; i < rows; ++i) out[i * ldo + j] = in[j * ldi + i];
  }
#endif
  for (Eigen::Index j = j0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) out[i * ldo + j] = in[j * ldi + i];
}

// C (m x n, ldc) = alpha A op(B) + beta C for A (m x k, lda) column-major.
template <class S>
void thin_raw(Eigen::Index m, Eigen::Index n, Eigen::Index k, const S* A, Eigen::Index lda, Coef<S> coef, S* C,
              Eigen::Index ldc, S alpha, S beta) {
  constexpr int L = Lanes<S>::n;
  // Scratch kept per thread: these products are called thousands of times a
  // step, and an allocation each time showed in small ones.
  thread_local Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> tail;
  tail.resize(L, k);
  // 256 rows x k terms of op(A) stay in cache across the columns.
  constexpr Eigen::Index kRows = 256;
  for (Eigen::Index r0 = 0; r0 < m; r0 += kRows) {
    const Eigen::Index rows = std::min(kRows, m - r0), rem = rows % L;
    if (rem != 0) {
      tail.setZero();
      for (Eigen::Index p = 0; p < k; ++p)
        for (Eigen::Index i = 0; i < rem; ++i) tail(i, p) = A[p * lda + r0 + rows - rem + i];
    }
    // 2 x 6 tiles: 12 accumulators, 2 pieces of A and a broadcast fill 15
    // of the 16 vector registers; 8 loads per 12 multiply-adds.
    Eigen::Index j = 0;
    auto columns = [&](auto nc) {
      thin_columns<S, decltype(nc)::value>(A + r0, lda, k, rows, tail.data(), coef.shifted(j), C + j * ldc + r0, ldc,
                                           alpha, beta);
      j += decltype(nc)::value;
    };
    while (j + 6 <= n) columns(std::integral_constant<int, 6>{});
    switch (n - j) {
      case 5: columns(std::integral_constant<int, 5>{}); break;
      case 4: columns(std::integral_constant<int, 4>{}); break;
      case 3: columns(std::integral_constant<int, 3>{}); break;
      case 2: columns(std::integral_constant<int, 2>{}); break;
      case 1: columns(std::integral_constant<int, 1>{}); break;
      default: break;
    }
  }
}

template <class S>
void thin_product(Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> c,
                  const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& a,
                  const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& b, bool transpose_a,
                  bool transpose_b, S alpha, S beta) {
  const Eigen::Index m = c.rows(), n = c.cols(), k = transpose_a ? a.rows() : a.cols();
  const Coef<S> coef = transpose_b ? Coef<S>{b.data(), 1, b.outerStride()} : Coef<S>{b.data(), b.outerStride(), 1};
  if (!transpose_a) {
    thin_raw<S>(m, n, k, a.data(), a.outerStride(), coef, c.data(), c.outerStride(), alpha, beta);
    return;
  }
  // op(A) = A^T transposed a panel of rows at a time into a buffer that stays
  // in cache (the image models' k = 32 filter products over 12544 pixels).
  thread_local Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> panel;
  constexpr Eigen::Index kPanel = 256;
  for (Eigen::Index r0 = 0; r0 < m; r0 += kPanel) {
    const Eigen::Index rows = std::min(kPanel, m - r0);
    panel.resize(rows, k);
    transpose_into<S>(a.data() + r0 * a.outerStride(), a.outerStride(), k, rows, panel.data(), rows);
    thin_raw<S>(rows, n, k, panel.data(), rows, coef, c.data() + r0, c.outerStride(), alpha, beta);
  }
}

// A small result of a long inner dimension, C = A^T op(B)... both ways:
// * A^T B (both factors contiguous along k): MR x NR dot products at once,
//   a vector of partial sums each, over blocks of k that stay in cache
//   (the classifier's logits, MSR's U^T vec(Gq)); OpenBLAS packs both.
// * A^T B^T = (B A)^T: the thin kernel on B A (B's columns are contiguous),
//   transposed into C (the image models' filter gradient).
template <class S, int MR, int NR>
__attribute__((noinline)) void dot_tile(const S* A, Eigen::Index lda, const S* B, Eigen::Index ldb, Eigen::Index k, S* acc, Eigen::Index ldacc) {
  using L = Lanes<S>;
  typename L::Vec sum[MR][NR] = {};
  Eigen::Index p = 0;
  for (; p + L::n <= k; p += L::n) {
    typename L::Vec b[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
      b[j] = L::load(B + j * ldb + p);
      L::pin(b[j]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const typename L::Vec a = L::load(A + i * lda + p);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) sum[i][j] += a * b[j];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      S lanes[L::n];  // through a copy: subscripting the vectors kept them all out of registers
      const typename L::Vec v = sum[i][j];
      L::store(lanes, v);
      S total = 0;
      for (int l = 0; l < L::n; ++l) total += lanes[l];
      for (Eigen::Index q = p; q < k; ++q) total += A[i * lda + q] * B[j * ldb + q];
      acc[i + j * ldacc] += total;
    }
}

template <class S>
void dot_product(Eigen::Index m, Eigen::Index n, Eigen::Index k, const S* A, Eigen::Index lda, const S* B,
                 Eigen::Index ldb, S* C, Eigen::Index ldc, S alpha, S beta) {
  thread_local Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> acc;
  acc.setZero(m, n);
  constexpr Eigen::Index kBlock = 512;  // (m + n) x 512 entries in cache across the tiles
  constexpr int MR = 4, NR = 3;         // 12 vectors of sums, 3 of B, 1 of A
  for (Eigen::Index p0 = 0; p0 < k; p0 += kBlock) {
    const Eigen::Index kb = std::min(kBlock, k - p0);
    for (Eigen::Index j = 0; j < n; j += NR) {
      const Eigen::Index nr = std::min<Eigen::Index>(NR, n - j);
      for (Eigen::Index i = 0; i < m; i += MR) {
        const Eigen::Index mr = std::min<Eigen::Index>(MR, m - i);
        const S* a = A + i * lda + p0;
        const S* b = B + j * ldb + p0;
        S* out = acc.data() + i + j * m;
        switch (mr * 4 + nr) {  // every edge tile vectorised too
#define SYMLEARN_DOT_TILE(R, N) \
  case R * 4 + N: dot_tile<S, R, N>(a, lda, b, ldb, kb, out, m); break;
          SYMLEARN_DOT_TILE(4, 3) SYMLEARN_DOT_TILE(4, 2) SYMLEARN_DOT_TILE(4, 1)
          SYMLEARN_DOT_TILE(3, 3) SYMLEARN_DOT_TILE(3, 2) SYMLEARN_DOT_TILE(3, 1)
          SYMLEARN_DOT_TILE(2, 3) SYMLEARN_DOT_TILE(2, 2) SYMLEARN_DOT_TILE(2, 1)
          SYMLEARN_DOT_TILE(1, 3) SYMLEARN_DOT_TILE(1, 2) SYMLEARN_DOT_TILE(1, 1)
#undef SYMLEARN_DOT_TILE
          default: break;
        }
      }
    }
  }
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < m; ++i) {
      S& to = C[i + j * ldc];
      to = alpha * acc(i, j) + (beta == S(0) ? S(0) : beta * to);
    }
}

// Whether a transposed-A product has the small-result, long-k shape above.
bool uses_dots(Eigen::Index m, Eigen::Index n, Eigen::Index k, bool transpose_a) {
  return transpose_a && k >= 512 && m * n <= 4096 && blas_threshold() != 0;
}

// Whether the register-tile kernel above takes an m x k by k x n product:
// measured against OpenBLAS (tests/bench/bench_gemm.cpp, lib/linalg/README.md)
// it wins for a thin inner dimension at any size and for k up to 128 when the
// result is narrow; packing pays off for large square products.
bool uses_thin(Eigen::Index m, Eigen::Index n, Eigen::Index k, bool transpose_a) {
  if (k == 0 || blas_threshold() == 0) return false;
  // A few rows are fine when there are many columns (the image models'
  // 32 x 9 filters times 25088 pixels).
  if (m < 64 && !(m >= 16 && n >= 1024)) return false;
  if (transpose_a && m * k > 4096 && k > 32) return false;  // A is transposed panel by panel first
  return k <= 32 || (k <= 128 && n <= 128);
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
  if (alpha != S(0) && uses_thin(m, n, k, transpose_a)) {
    thin_product<S>(c, a, b, transpose_a, transpose_b, alpha, beta);
    return;
  }
  if (alpha != S(0) && uses_dots(m, n, k, transpose_a)) {
    if (!transpose_b) {
      dot_product<S>(m, n, k, a.data(), a.outerStride(), b.data(), b.outerStride(), c.data(), c.outerStride(), alpha,
                     beta);
    } else {
      thread_local Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> ct;  // (B A), n x m
      ct.resize(n, m);
      thin_raw<S>(n, m, k, b.data(), b.outerStride(), Coef<S>{a.data(), a.outerStride(), 1}, ct.data(), n, S(1), S(0));
      if (beta == S(0)) c = alpha * ct.transpose();
      else c = alpha * ct.transpose() + beta * c;
    }
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

template <class S>
void transpose_checked(Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> out,
                       const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& in) {
  if (out.rows() != in.cols() || out.cols() != in.rows())
    throw std::invalid_argument("transpose: " + shape(in.rows(), in.cols()) + " into " + shape(out.rows(), out.cols()));
  transpose_into<S>(in.data(), in.outerStride(), in.rows(), in.cols(), out.data(), out.outerStride());
}

}  // namespace

void transpose_into(Eigen::Ref<Eigen::MatrixXf> out, const ConstRefF& in) { transpose_checked<float>(out, in); }
void transpose_into(Eigen::Ref<Eigen::MatrixXd> out, const ConstRef& in) { transpose_checked<double>(out, in); }

void gemm_into(Eigen::Ref<Eigen::MatrixXd> c, const ConstRef& a, const ConstRef& b, bool transpose_a,
               bool transpose_b, double alpha, double beta) {
  gemm_into_impl<double>(c, a, b, transpose_a, transpose_b, alpha, beta);
}

void gemm_into(Eigen::Ref<Eigen::MatrixXf> c, const ConstRefF& a, const ConstRefF& b, bool transpose_a,
               bool transpose_b, float alpha, float beta) {
  gemm_into_impl<float>(c, a, b, transpose_a, transpose_b, alpha, beta);
}

}  // namespace symlearn::linalg
