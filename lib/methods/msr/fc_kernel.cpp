#include "methods/msr/fc_kernel.hpp"

#include "linalg/gemm.hpp"
#include "methods/msr/inner_solve.hpp"
#include "util/parallel.hpp"

#include <cmath>

namespace symlearn::msr {

namespace {
template <class S>
using MatOf = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using VecOf = Eigen::Matrix<S, Eigen::Dynamic, 1>;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

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

}  // namespace

template <class S>
BatchResultOf<S> fc_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                                const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads) {
  using Mat = MatOf<S>;
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const Index mn = static_cast<Index>(m) * n;
  const long B = count;
  const int u_index = model.find("U"), v_index = model.find("v0");
  const Mat U = model.params[u_index].value.cast<S>();
  const Index k = U.cols();
  const Solver solver = Solver::of(model, inner, v_index);
  const bool support_term = solver.has_support_term();

  // Fixed chunks of tasks whose partial sums are added in chunk order: the
  // result does not depend on the thread count.
  constexpr long kChunk = 16;
  const long chunks = (B + kChunk - 1) / kChunk;
  std::vector<Mat> dU_part(chunks);
  MatrixXd dv0s(k, B), dds(k, B);
  std::vector<double> losses(B), dlogs(B, 0.0);
  parallel_for(chunks, threads, [&](long ch) {
    const long first = ch * kChunk, C = std::min(B, first + kChunk) - first;
    std::vector<tasks::EpisodeOf<S>> eps(C);
    for (long i = 0; i < C; ++i) eps[i] = episode(first + i);
    const Index ns = eps[0].xs.rows(), rows = ns * m;
    const double c2 = 2.0 / static_cast<double>(rows);  // 2c
    Mat xs(C * ns, n);
    for (long i = 0; i < C; ++i) xs.middleRows(i * ns, ns) = eps[i].xs;
    const Mat a = support_design<S>(U, xs, m, n);

    std::vector<TaskSolve> solves(C);
    Mat v_final(k, C);
    for (long i = 0; i < C; ++i) {
      TaskSolve& t = solves[i];
      t.a = a.middleRows(i * rows, rows).template cast<double>();
      t.b = support_targets(eps[i].ys);
      t.c2 = c2;
      solve_forward(solver, t);
      v_final.col(i) = t.v_final.template cast<S>();
    }
    Mat w(mn, C);  // vec(W(v_T)) of each task
    linalg::gemm_into(w, U, v_final, false, false);
    Mat q(mn, C);  // vec(Gq) of each task
    for (long i = 0; i < C; ++i) {
      const auto& e = eps[i];
      const S nq = static_cast<S>(e.xq.rows()) * static_cast<S>(m);
      // The residual transposed (m x Nq): both products then have a plain
      // first factor with m rows, the form the thin-product kernel takes.
      Mat rq = -e.yq.transpose();
      linalg::gemm_into(rq, unvec(w.col(i).data(), m, n), e.xq, false, true, S(1), S(1));
      losses[first + i] = static_cast<double>(rq.squaredNorm() / nq);
      linalg::gemm_into(unvec(q.col(i).data(), m, n), rq, e.xq, false, false, S(2) / nq);
    }
    Mat h(k, C);
    linalg::gemm_into(h, U, q, true, false);  // h_t = U^T vec(Gq_t)

    Mat z(support_term ? a.rows() : 0, k);  // Z_s = dLq/dP_s, laid out like a
    for (long i = 0; i < C; ++i) {
      const TaskGrad g = solve_backward(solver, solves[i], h.col(i).template cast<double>());
      dv0s.col(first + i) = g.dv0;
      dds.col(first + i) = g.dd.size() ? g.dd : VectorXd::Zero(k);
      dlogs[first + i] = g.dlog_lambda;
      if (support_term) z.middleRows(i * rows, rows) = support_gradient(solves[i], g).template cast<S>();
    }
    dU_part[ch].resize(mn, k);
    linalg::gemm_into(dU_part[ch], q, v_final, false, true);  // sum vec(Gq_t) v_T^T
    if (support_term)
      for (Index j = 0; j < k; ++j)  // column j += sum_s vec(Z_s[:, j] x_s^T)
        linalg::gemm_into(unvec(dU_part[ch].col(j).data(), m, n), unvec(z.col(j).data(), m, C * ns), xs, false,
                          false, S(1), S(1));
  });

  // Sums in chunk and task order.
  BatchResultOf<S> r;
  const double inv = 1.0 / static_cast<double>(B);
  for (double l : losses) r.mean_loss += l;
  r.mean_loss *= inv;
  Mat& dU = dU_part[0];
  for (long ch = 1; ch < chunks; ++ch) dU += dU_part[ch];
  r.mean_grads.resize(model.params.size());
  r.mean_grads[u_index] = std::move(dU) * static_cast<S>(inv);
  r.mean_grads[v_index] = (dv0s.rowwise().sum() * inv).template cast<S>();
  solver_grads(model, v_index, dds, dlogs, r.mean_grads);
  return r;
}

template BatchResultOf<float> fc_fused_batch<float>(const msr::MetaModel&, const InnerLoop&, long,
                                                    const std::function<tasks::EpisodeOf<float>(long)>&, int);
template BatchResultOf<double> fc_fused_batch<double>(const msr::MetaModel&, const InnerLoop&, long,
                                                      const std::function<tasks::EpisodeOf<double>(long)>&, int);

double fc_ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e) {
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const MatrixXd& U = model.params[model.find("U")].value;
  const MatrixXd a = support_design<double>(U, e.xs, m, n);
  const VectorXd b = support_targets(e.ys);
  const double c2 = 2.0 / static_cast<double>(a.rows());
  const Solver solver = Solver::of(model, InnerLoop{}, model.find("v0"));
  TaskSolve t;
  t.a = a;
  t.b = b;
  t.c2 = c2;
  solve_forward(solver, t);
  const VectorXd w = U * t.v_final;
  const MatrixXd r = e.xq * Eigen::Map<const MatrixXd>(w.data(), m, n).transpose() - e.yq;
  return r.squaredNorm() / (static_cast<double>(e.xq.rows()) * m);
}

}  // namespace symlearn::msr
