#include "methods/msr/ridge.hpp"

#include "linalg/gemm.hpp"
#include "util/parallel.hpp"

#include <cmath>

namespace symlearn::msr {

namespace {
template <class S>
using MatOf = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using VecOf = Eigen::Matrix<S, Eigen::Dynamic, 1>;
using Eigen::Index;

template <class S>
Eigen::Map<MatOf<S>> unvec(S* p, Index rows, Index cols) {
  return {p, rows, cols};
}

// The support designs of several tasks at once, for their stacked support
// inputs xs (R x n): rows [r m, (r+1) m) of the result are P_r (column j =
// U_j x_r). One product per column of U, so U is read once for all of them.
template <class S>
MatOf<S> support_design(const MatOf<S>& U, const MatOf<S>& xs, int m, int n) {
  MatOf<S> a(static_cast<Index>(m) * xs.rows(), U.cols());
  for (Index j = 0; j < U.cols(); ++j) {
    const Eigen::Map<const MatOf<S>> uj(U.col(j).data(), m, n);
    linalg::gemm_into(unvec(a.col(j).data(), m, xs.rows()), uj, xs, false, true);
  }
  return a;
}

// The stacked support targets b (block r = y_r).
template <class S>
VecOf<S> support_targets(const MatOf<S>& ys) {
  VecOf<S> b(ys.size());
  unvec(b.data(), ys.cols(), ys.rows()) = ys.transpose();
  return b;
}

// K v* = c A^T b + lambda v0, K = c A^T A + lambda I, factored for the second
// solve (mu = K^{-1} h); in double (K's conditioning follows lambda).
struct RidgeSystem {
  Eigen::LLT<Eigen::MatrixXd> llt;
  Eigen::VectorXd v;
};

template <class S, class A>
RidgeSystem solve_ridge(const Eigen::MatrixBase<A>& a, const VecOf<S>& b, const Eigen::VectorXd& v0, double lambda,
                        double c) {
  const Eigen::MatrixXd ad = a.template cast<double>();
  Eigen::MatrixXd k = c * (ad.transpose() * ad);
  k.diagonal().array() += lambda;
  RidgeSystem r;
  r.llt.compute(k);
  r.v = r.llt.solve(c * (ad.transpose() * b.template cast<double>()) + lambda * v0);
  return r;
}

struct RidgeParams {
  int u = -1, v0 = -1, log_lambda = -1;
  double lambda = 0;
};

RidgeParams ridge_params(const msr::MetaModel& model) {
  RidgeParams p{model.find("U"), model.find("v0"), model.find("log_lambda")};
  p.lambda = std::exp(model.params[p.log_lambda].value(0, 0));
  return p;
}
}  // namespace

double ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e) {
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const RidgeParams p = ridge_params(model);
  const Eigen::MatrixXd& U = model.params[p.u].value;
  const double c = 1.0 / (static_cast<double>(e.xs.rows()) * m);
  const RidgeSystem sys = solve_ridge<double>(support_design<double>(U, e.xs, m, n), support_targets<double>(e.ys),
                                              model.params[p.v0].value.col(0), p.lambda, c);
  const Eigen::VectorXd w = U * sys.v;
  const Eigen::MatrixXd r = e.xq * Eigen::Map<const Eigen::MatrixXd>(w.data(), m, n).transpose() - e.yq;
  return r.squaredNorm() / (static_cast<double>(e.xq.rows()) * m);
}

template <class S>
BatchResultOf<S> ridge_fused_batch(const msr::MetaModel& model, long count,
                                   const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads) {
  using Mat = MatOf<S>;
  using Vec = VecOf<S>;
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const Index mn = static_cast<Index>(m) * n;
  const long B = count;
  const RidgeParams p = ridge_params(model);
  const Mat U = model.params[p.u].value.cast<S>();
  const Eigen::VectorXd v0 = model.params[p.v0].value.col(0);
  const Index k = U.cols();

  // Fixed chunks of tasks summed in chunk order: the result does not depend
  // on the thread count (as in fused.cpp).
  constexpr long kChunk = 16;
  const long chunks = (B + kChunk - 1) / kChunk;
  std::vector<Mat> dU_part(chunks);
  Eigen::MatrixXd mus(k, B), vstars(k, B);
  std::vector<double> losses(B);
  parallel_for(chunks, threads, [&](long ch) {
    const long first = ch * kChunk, C = std::min(B, first + kChunk) - first;
    std::vector<tasks::EpisodeOf<S>> eps(C);
    for (long i = 0; i < C; ++i) eps[i] = episode(first + i);
    const Index ns = eps[0].xs.rows();
    const double c = 1.0 / (static_cast<double>(ns) * m);
    Mat xs(C * ns, n);
    for (long i = 0; i < C; ++i) xs.middleRows(i * ns, ns) = eps[i].xs;
    const Mat a = support_design<S>(U, xs, m, n);
    auto a_of = [&](long i) { return a.middleRows(i * ns * m, ns * m); };

    std::vector<RidgeSystem> sys(C);
    std::vector<Vec> b(C);
    Mat vm(k, 2 * C);  // [v*_t | mu_t]
    for (long i = 0; i < C; ++i) {
      b[i] = support_targets<S>(eps[i].ys);
      sys[i] = solve_ridge<S>(a_of(i), b[i], v0, p.lambda, c);
      vm.col(i) = sys[i].v.template cast<S>();
    }
    Mat w(mn, C);  // vec(W(v*_t))
    linalg::gemm_into(w, U, vm.leftCols(C), false, false);
    Mat qa(mn, 2 * C);  // columns: vec(Gq_t) (then corrected), and the support term
    for (long i = 0; i < C; ++i) {
      const auto& e = eps[i];
      const S nq = static_cast<S>(e.xq.rows()) * static_cast<S>(m);
      Mat rq = -e.yq;
      linalg::gemm_into(rq, e.xq, unvec(w.col(i).data(), m, n), false, true, S(1), S(1));
      losses[first + i] = static_cast<double>(rq.squaredNorm() / nq);
      linalg::gemm_into(unvec(qa.col(i).data(), m, n), rq, e.xq, true, false, S(2) / nq);
    }
    Mat h(k, C);
    linalg::gemm_into(h, U, qa.leftCols(C), true, false);  // h_t = U^T vec(Gq_t)
    const S sc = static_cast<S>(c);
    for (long i = 0; i < C; ++i) {
      const Eigen::VectorXd mu = sys[i].llt.solve(h.col(i).template cast<double>());
      mus.col(first + i) = mu;
      vstars.col(first + i) = sys[i].v;
      vm.col(C + i) = mu.template cast<S>();
      // W(mu) x_s = P_s mu and the support residuals P_s v* - y_s, for all s.
      Vec pm = a_of(i) * vm.col(C + i);
      Vec rs = a_of(i) * vm.col(i) - b[i];
      linalg::gemm_into(unvec(qa.col(i).data(), m, n), unvec(pm.data(), m, ns), eps[i].xs, false, false, -sc, S(1));
      linalg::gemm_into(unvec(qa.col(C + i).data(), m, n), unvec(rs.data(), m, ns), eps[i].xs, false, false, -sc);
    }
    dU_part[ch].resize(mn, k);
    linalg::gemm_into(dU_part[ch], qa, vm, false, true);  // sum q'_t v*_t^T + a'_t mu_t^T
  });

  BatchResultOf<S> r;
  const double inv = 1.0 / static_cast<double>(B);
  for (double l : losses) r.mean_loss += l;  // in task order
  r.mean_loss *= inv;
  Mat& dU = dU_part[0];
  for (long ch = 1; ch < chunks; ++ch) dU += dU_part[ch];
  r.mean_grads.resize(model.params.size());
  r.mean_grads[p.u] = std::move(dU) * static_cast<S>(inv);
  r.mean_grads[p.v0] = (p.lambda * inv * mus.rowwise().sum()).template cast<S>();
  const double dlog = p.lambda * inv * (mus.array() * (v0.replicate(1, B) - vstars).array()).sum();
  r.mean_grads[p.log_lambda] = Mat::Constant(1, 1, static_cast<S>(dlog));
  return r;
}

template BatchResultOf<float> ridge_fused_batch<float>(const msr::MetaModel&, long,
                                                       const std::function<tasks::EpisodeOf<float>(long)>&, int);
template BatchResultOf<double> ridge_fused_batch<double>(const msr::MetaModel&, long,
                                                         const std::function<tasks::EpisodeOf<double>(long)>&, int);

}  // namespace symlearn::msr
