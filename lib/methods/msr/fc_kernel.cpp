#include "methods/msr/fc_kernel.hpp"

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

// The stacked support targets b (block r = y_r).
template <class S>
VecOf<S> support_targets(const MatOf<S>& ys) {
  VecOf<S> b(ys.size());
  unvec(b.data(), ys.cols(), ys.rows()) = ys.transpose();
  return b;
}

// What the inner solver needs besides (H, e): the same for every task.
struct Solver {
  bool ridge = false;
  int steps = 1;
  bool first_order = false;
  VectorXd d;  // sgd: the step size of each entry of v
  double lambda = 0;
  VectorXd v0;
};

// One task's solve, kept for its backward pass. H is used through products
// H x = 2c A^T (A x) (4 Ns m k flops) and formed only for ridge's solve.
struct TaskSolve {
  MatrixXd a;  // A (Ns m x k)
  VectorXd b, e;
  double c2 = 0;  // 2c
  std::vector<VectorXd> v, g;  // sgd: v_0 .. v_T, and g_t = H v_t - e
  Eigen::LLT<MatrixXd> llt;    // ridge: K = H/2 + lambda I
  VectorXd v_final;
  VectorXd times_h(const VectorXd& x) const { return c2 * (a.transpose() * (a * x)); }
};

// dLq/dH = L R^T (rank <= T for sgd, 1 for ridge; no columns: first order).
struct TaskGrad {
  VectorXd dv0, dd;  // dd: per-entry step-size gradient (sgd)
  double dlog_lambda = 0;
  MatrixXd l, r;
  VectorXd ebar;  // dLq/de
};

void solve_forward(const Solver& s, TaskSolve& t) {
  t.e = t.c2 * (t.a.transpose() * t.b);
  if (s.ridge) {
    const Index k = t.a.cols();
    MatrixXd kmat = MatrixXd::Zero(k, k);
    kmat.selfadjointView<Eigen::Lower>().rankUpdate(t.a.transpose(), 0.5 * t.c2);
    kmat.diagonal().array() += s.lambda;
    t.llt.compute(kmat);
    t.v_final = t.llt.solve(0.5 * t.e + s.lambda * s.v0);
    return;
  }
  t.v.assign(1, s.v0);
  for (int step = 0; step < s.steps; ++step) {
    t.g.push_back(t.times_h(t.v.back()) - t.e);
    t.v.push_back(t.v.back() - s.d.cwiseProduct(t.g.back()));
  }
  t.v_final = t.v.back();
}

TaskGrad solve_backward(const Solver& s, const TaskSolve& t, const VectorXd& h) {
  TaskGrad r;
  const Index k = h.size();
  if (s.ridge) {
    const VectorXd mu = t.llt.solve(h);
    r.dv0 = s.lambda * mu;
    r.dlog_lambda = s.lambda * mu.dot(s.v0 - t.v_final);
    r.l = -0.5 * mu;
    r.r = t.v_final;
    r.ebar = 0.5 * mu;
    return r;
  }
  r.dd = VectorXd::Zero(k);
  if (s.first_order) {
    r.dv0 = h;
    for (const auto& g : t.g) r.dd -= g.cwiseProduct(h);
    r.l.resize(k, 0);
    r.r.resize(k, 0);
    r.ebar = VectorXd::Zero(k);
    return r;
  }
  VectorXd vbar = h;
  r.l.resize(k, s.steps);
  r.r.resize(k, s.steps);
  r.ebar = VectorXd::Zero(k);
  for (int step = s.steps - 1; step >= 0; --step) {
    const VectorXd dv = s.d.cwiseProduct(vbar);
    r.dd -= t.g[step].cwiseProduct(vbar);
    r.l.col(step) = -dv;  // Hbar -= dv v_t^T
    r.r.col(step) = t.v[step];
    r.ebar += dv;
    vbar -= t.times_h(dv);
  }
  r.dv0 = vbar;
  return r;
}

// Z = dLq/dA = 2c (A (Hbar + Hbar^T) + b ebar^T), from Hbar's factors.
MatrixXd support_gradient(const TaskSolve& t, const TaskGrad& g) {
  const Index r = g.l.cols();
  MatrixXd left(t.a.rows(), 2 * r + 1), right(t.a.cols(), 2 * r + 1);
  left << t.a * g.l, t.a * g.r, t.b;
  right << g.r, g.l, g.ebar;
  return t.c2 * (left * right.transpose());
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
  const int lr_index = model.inner_lr_of(v_index), log_index = model.find("log_lambda");
  const Mat U = model.params[u_index].value.cast<S>();
  const Index k = U.cols();
  Solver solver;
  solver.ridge = model.arch.ridge();
  solver.steps = inner.steps;
  solver.first_order = inner.first_order;
  solver.v0 = model.params[v_index].value.col(0);
  solver.d = VectorXd::Constant(k, model.arch.inner_lr);
  if (lr_index >= 0) {
    const MatrixXd& l = model.params[lr_index].value;
    solver.d = l.size() == 1 ? VectorXd::Constant(k, l(0, 0)) : VectorXd(l.reshaped());
  }
  if (solver.ridge) solver.lambda = std::exp(model.params[log_index].value(0, 0));
  const bool support_term = solver.ridge || !solver.first_order;

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
      t.b = support_targets<S>(eps[i].ys).template cast<double>();
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
      Mat rq = -e.yq;
      linalg::gemm_into(rq, e.xq, unvec(w.col(i).data(), m, n), false, true, S(1), S(1));
      losses[first + i] = static_cast<double>(rq.squaredNorm() / nq);
      linalg::gemm_into(unvec(q.col(i).data(), m, n), rq, e.xq, true, false, S(2) / nq);
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
  if (lr_index >= 0) {
    const VectorXd dd = dds.rowwise().sum() * inv;
    const MatrixXd& l = model.params[lr_index].value;
    r.mean_grads[lr_index] = (l.size() == 1 ? MatrixXd::Constant(1, 1, dd.sum()) : MatrixXd(dd)).template cast<S>();
  }
  if (log_index >= 0) {
    double dlog = 0;
    for (double x : dlogs) dlog += x;
    r.mean_grads[log_index] = Mat::Constant(1, 1, static_cast<S>(dlog * inv));
  }
  return r;
}

template BatchResultOf<float> fc_fused_batch<float>(const msr::MetaModel&, const InnerLoop&, long,
                                                    const std::function<tasks::EpisodeOf<float>(long)>&, int);
template BatchResultOf<double> fc_fused_batch<double>(const msr::MetaModel&, const InnerLoop&, long,
                                                      const std::function<tasks::EpisodeOf<double>(long)>&, int);

double ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e) {
  const int m = model.arch.output_dim, n = model.arch.input_dim;
  const MatrixXd& U = model.params[model.find("U")].value;
  const MatrixXd a = support_design<double>(U, e.xs, m, n);
  const VectorXd b = support_targets<double>(e.ys);
  const double c2 = 2.0 / static_cast<double>(a.rows());
  Solver solver;
  solver.ridge = true;
  solver.v0 = model.params[model.find("v0")].value.col(0);
  solver.lambda = std::exp(model.params[model.find("log_lambda")].value(0, 0));
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
