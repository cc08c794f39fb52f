#include "methods/msr/fused.hpp"

#include "linalg/gemm.hpp"
#include "util/parallel.hpp"

namespace symlearn::msr {

using Eigen::MatrixXd;
using Eigen::VectorXd;

bool fused_supported(const msr::MetaModel& model, const InnerLoop& inner) {
  return model.arch.kind == "msr-fc" && inner.steps == 1;
}

namespace {
// The m x n view of a column of length m*n (column-major unvec).
Eigen::Map<const MatrixXd> unvec(const double* p, int m, int n) { return {p, m, n}; }
}  // namespace

BatchResult msr_fused_batch(const msr::MetaModel& model, const InnerLoop& inner,
                            const std::vector<tasks::Episode>& eps, int threads) {
  return msr_fused_batch(model, inner, static_cast<long>(eps.size()), [&](long t) { return eps[t]; }, threads);
}

BatchResult msr_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                            const std::function<tasks::Episode(long)>& episode, int threads) {
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const long mn = static_cast<long>(m) * n;
  const long B = count;
  const MatrixXd& U = model.params[model.find("U")].value;  // mn x k
  const VectorXd v0 = model.params[model.find("v0")].value;  // k
  const int k = static_cast<int>(U.cols());
  const int lr_index = model.inner_lr_of(model.find("v0"));
  // The inner learning rate as a k-vector (constant, one learned scalar, or per entry).
  VectorXd lr = VectorXd::Constant(k, model.arch.inner_lr);
  if (lr_index >= 0) {
    const MatrixXd& l = model.params[lr_index].value;
    lr = l.size() == 1 ? VectorXd::Constant(k, l(0, 0)) : VectorXd(Eigen::Map<const VectorXd>(l.data(), k));
  }
  const bool second = !inner.first_order;
  const VectorXd w0 = U * v0;  // every task starts from W0 = unvec(U v0)

  // Tasks are processed in fixed chunks whose partial sums are added in chunk
  // order, so the result does not depend on the thread count; a chunk is
  // small enough for its mn x chunk matrices to stay in cache.
  constexpr long kChunk = 8;
  const long chunks = (B + kChunk - 1) / kChunk;
  std::vector<MatrixXd> dU_part(chunks, MatrixXd::Zero(mn, k));
  std::vector<VectorXd> b_part(chunks, VectorXd::Zero(second ? mn : 0));
  MatrixXd G(k, B), H(k, B);
  std::vector<double> losses(B);
  parallel_for(chunks, threads, [&](long ch) {
    const long first = ch * kChunk, C = std::min(B, first + kChunk) - first;
    // The chunk's tasks side by side: [Q | A] holds vec(Gq_t) and a_t, so that
    // U is read once per chunk by a matrix product instead of once per task.
    std::vector<tasks::Episode> eps(C);
    for (long i = 0; i < C; ++i) eps[i] = episode(first + i);
    MatrixXd QA(mn, 2 * C), VZ(k, 2 * C), Wp(mn, C);
    auto Q = QA.leftCols(C);
    auto A = QA.rightCols(C);
    for (long i = 0; i < C; ++i) {
      const auto& e = eps[i];
      const double cs = 2.0 / (static_cast<double>(e.xs.rows()) * m);
      MatrixXd rs = -e.ys;  // Ns x m
      linalg::gemm_into(rs, e.xs, unvec(w0.data(), m, n), false, true, 1.0, 1.0);
      linalg::gemm_into(Eigen::Map<MatrixXd>(A.col(i).data(), m, n), rs, e.xs, true, false, cs);
    }
    auto Gc = G.middleCols(first, C);
    linalg::gemm_into(Gc, U, A, true, false);                                  // g_t = U^T a_t
    VZ.leftCols(C) = v0.replicate(1, C) - lr.asDiagonal() * Gc;                // v'_t
    linalg::gemm_into(Wp, U, VZ.leftCols(C), false, false);                    // vec(W'_t)
    for (long i = 0; i < C; ++i) {
      const auto& e = eps[i];
      const double nq = static_cast<double>(e.xq.rows()) * m;
      MatrixXd rq = -e.yq;  // Nq x m
      linalg::gemm_into(rq, e.xq, unvec(Wp.col(i).data(), m, n), false, true, 1.0, 1.0);
      losses[first + i] = rq.squaredNorm() / nq;
      linalg::gemm_into(Eigen::Map<MatrixXd>(Q.col(i).data(), m, n), rq, e.xq, true, false, 2.0 / nq);
    }
    auto Hc = H.middleCols(first, C);
    linalg::gemm_into(Hc, U, Q, true, false);                                  // h_t = U^T vec(Gq_t)
    if (second) VZ.rightCols(C) = -(lr.asDiagonal() * Hc);                     // -z_t
    else VZ.rightCols(C).setZero();
    linalg::gemm_into(dU_part[ch], QA, VZ, false, true, 1.0, 1.0);             // sum vec(Gq) v'^T - a z^T
    if (second) {
      MatrixXd UZ(mn, C);
      linalg::gemm_into(UZ, U, VZ.rightCols(C), false, false, -1.0);          // U z_t
      for (long i = 0; i < C; ++i) {
        const auto& e = eps[i];
        const double cs = 2.0 / (static_cast<double>(e.xs.rows()) * m);
        const MatrixXd zx = linalg::gemm(unvec(UZ.col(i).data(), m, n), e.xs, false, true);  // m x Ns
        linalg::gemm_into(Eigen::Map<MatrixXd>(b_part[ch].data(), m, n), zx, e.xs, false, false, cs, 1.0);
      }
    }
  });

  BatchResult r;
  for (double l : losses) r.mean_loss += l;  // in task order
  const double inv = 1.0 / static_cast<double>(B);
  r.mean_loss *= inv;
  MatrixXd dU = dU_part[0];
  for (long ch = 1; ch < chunks; ++ch) dU += dU_part[ch];
  VectorXd dv0 = H.rowwise().sum();
  if (second) {
    VectorXd bsum = b_part[0];
    for (long ch = 1; ch < chunks; ++ch) bsum += b_part[ch];
    dU.noalias() -= bsum * v0.transpose();
    dv0.noalias() -= U.transpose() * bsum;
  }
  r.mean_grads.resize(model.params.size());
  r.mean_grads[model.find("U")] = dU * inv;
  r.mean_grads[model.find("v0")] = dv0 * inv;
  if (lr_index >= 0) {
    const VectorXd hg = -(H.cwiseProduct(G)).rowwise().sum() * inv;  // k
    const MatrixXd& l = model.params[lr_index].value;
    r.mean_grads[lr_index] = l.size() == 1 ? MatrixXd::Constant(1, 1, hg.sum()) : MatrixXd(hg);
  }
  return r;
}

}  // namespace symlearn::msr
