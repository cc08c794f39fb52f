// Dense matrix product with the kernel chosen by size: a column-update kernel
// for a thin inner dimension (k <= 16, at least 64 rows), Eigen's own kernel
// for small products and for matrix-vector and outer products, OpenBLAS for
// the rest above a measured threshold.
// The measurements behind the threshold are in lib/linalg/README.md.
#pragma once

#include <Eigen/Dense>

namespace symlearn::linalg {

// C = op(A) * op(B), op = transpose where the flag is set. Any column-major
// matrix or map (e.g. a column viewed as a matrix) binds without a copy.
using ConstRef = Eigen::Ref<const Eigen::MatrixXd>;
Eigen::MatrixXd gemm(const ConstRef& a, const ConstRef& b, bool transpose_a = false, bool transpose_b = false);

// C = alpha * op(A) * op(B) + beta * C into an existing matrix or map (no
// temporary): for accumulating and for writing into a column viewed as a matrix.
void gemm_into(Eigen::Ref<Eigen::MatrixXd> c, const ConstRef& a, const ConstRef& b, bool transpose_a,
               bool transpose_b, double alpha = 1.0, double beta = 0.0);

// The same in float32 (OpenBLAS sgemm above the same threshold), for the
// training kernels that run in single precision (--precision float32).
using ConstRefF = Eigen::Ref<const Eigen::MatrixXf>;
void gemm_into(Eigen::Ref<Eigen::MatrixXf> c, const ConstRefF& a, const ConstRefF& b, bool transpose_a,
               bool transpose_b, float alpha = 1.0f, float beta = 0.0f);

// out = in^T into an existing matrix of the transposed shape (8 x 8 register
// blocks for float with AVX; Eigen's transpose writes entry by entry).
void transpose_into(Eigen::Ref<Eigen::MatrixXf> out, const ConstRefF& in);
void transpose_into(Eigen::Ref<Eigen::MatrixXd> out, const ConstRef& in);

// Whether gemm sends an m x k by k x n product to OpenBLAS (with the current
// threshold): the rule below, in one place for gemm and the benchmark.
bool uses_blas(Eigen::Index m, Eigen::Index n, Eigen::Index k);

// Products with m*n*k at or above this many multiply-adds go to OpenBLAS.
long blas_threshold();
// Override (0 = always OpenBLAS, a huge value = always Eigen); used by the benchmark.
void set_blas_threshold(long flops);

}  // namespace symlearn::linalg
