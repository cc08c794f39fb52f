#include "learn/msr_fused.hpp"

#include "linalg/gemm.hpp"
#include "util/parallel.hpp"

namespace symlearn::learn {

using Eigen::MatrixXd;
using Eigen::VectorXd;

bool fused_supported(const models::MetaModel& model, const InnerLoop& inner) {
  return model.arch.kind == "msr-fc" && inner.steps == 1;
}

namespace {
// The m x n view of a column of length m*n (column-major unvec).
Eigen::Map<const MatrixXd> unvec(const double* p, int m, int n) { return {p, m, n}; }
}  // namespace

BatchResult msr_fused_batch(const models::MetaModel& model, const InnerLoop& inner,
                            const std::vector<tasks::Episode>& eps, int threads) {
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const long mn = static_cast<long>(m) * n;
  const long B = static_cast<long>(eps.size());
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

  // Tasks are processed one at a time so that each task's mn-vectors stay in
  // cache, in fixed chunks whose partial sums are added in chunk order: the
  // result does not depend on the thread count.
  constexpr long kChunk = 8;
  const long chunks = (B + kChunk - 1) / kChunk;
  std::vector<MatrixXd> dU_part(chunks, MatrixXd::Zero(mn, k));
  std::vector<VectorXd> b_part(chunks, VectorXd::Zero(second ? mn : 0));
  MatrixXd G(k, B), H(k, B);
  std::vector<double> losses(B);
  parallel_for(chunks, threads, [&](long ch) {
    MatrixXd qa(mn, 2), vz(k, 2);  // [vec(Gq_t), a_t] and [v'_t, -z_t]: dU += qa vz^T
    Eigen::Map<MatrixXd> q(qa.col(0).data(), m, n), a(qa.col(1).data(), m, n);
    VectorXd wp(mn), uz(mn);
    for (long t = ch * kChunk; t < std::min(B, (ch + 1) * kChunk); ++t) {
      const auto& e = eps[t];
      const double cs = 2.0 / (static_cast<double>(e.xs.rows()) * m);
      const double nq = static_cast<double>(e.xq.rows()) * m;
      MatrixXd rs = -e.ys;  // Ns x m
      linalg::gemm_into(rs, e.xs, unvec(w0.data(), m, n), false, true, 1.0, 1.0);
      linalg::gemm_into(a, rs, e.xs, true, false, cs);
      G.col(t).noalias() = U.transpose() * qa.col(1);
      vz.col(0) = v0 - lr.cwiseProduct(G.col(t));
      wp.noalias() = U * vz.col(0);
      MatrixXd rq = -e.yq;  // Nq x m
      linalg::gemm_into(rq, e.xq, unvec(wp.data(), m, n), false, true, 1.0, 1.0);
      losses[t] = rq.squaredNorm() / nq;
      linalg::gemm_into(q, rq, e.xq, true, false, 2.0 / nq);
      H.col(t).noalias() = U.transpose() * qa.col(0);
      vz.col(1) = second ? VectorXd(-lr.cwiseProduct(H.col(t))) : VectorXd::Zero(k);
      linalg::gemm_into(dU_part[ch], qa, vz, false, true, 1.0, 1.0);
      if (second) {
        uz.noalias() = -(U * vz.col(1));  // U z_t
        const MatrixXd zx = linalg::gemm(unvec(uz.data(), m, n), e.xs, false, true);  // m x Ns
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

}  // namespace symlearn::learn
