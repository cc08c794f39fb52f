// Dense matrix product with the kernel chosen by size: Eigen's own kernel for
// small products (no call overhead), OpenBLAS above a measured threshold.
// The measurements behind the threshold are in lib/linalg/README.md.
#pragma once

#include <Eigen/Dense>

namespace symlearn::linalg {

// C = op(A) * op(B), op = transpose where the flag is set.
Eigen::MatrixXd gemm(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
                     bool transpose_a = false, bool transpose_b = false);

// Products with m*n*k at or above this many multiply-adds go to OpenBLAS.
long blas_threshold();
// Override (0 = always OpenBLAS, a huge value = always Eigen); used by the benchmark.
void set_blas_threshold(long flops);

}  // namespace symlearn::linalg
