#include "methods/msr/kron_kernel.hpp"

#include "methods/msr/inner_solve.hpp"
#include "util/parallel.hpp"

namespace symlearn::msr {

namespace {
// The support design of Ns examples from ts = Xs U1 (Ns x k1): block (s, c)
// of A, rows [s m, (s+1) m) and columns [c k2, (c+1) k2), is ts(s, c) U2.
template <class S, class M>
Eigen::MatrixXd kron_design(const M& ts, const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>& u2) {
  const Eigen::Index m = u2.rows(), k2 = u2.cols(), k1 = ts.cols();
  Eigen::MatrixXd a(ts.rows() * m, k1 * k2);
  for (Eigen::Index s = 0; s < ts.rows(); ++s)
    for (Eigen::Index c = 0; c < k1; ++c)
      a.block(s * m, c * k2, m, k2) = (ts(s, c) * u2).template cast<double>();
  return a;
}
}  // namespace

template <class S>
BatchResultOf<S> kron_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                                  const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads) {
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  using Eigen::Index;
  const int m = model.arch.output_dim, k1 = model.arch.kron_in, k2 = model.arch.kron_out;
  const int u1_index = model.find("U1"), u2_index = model.find("U2"), v_index = model.find("v0");
  const Mat u1 = model.params[u1_index].value.cast<S>(), u2 = model.params[u2_index].value.cast<S>();
  const Solver solver = Solver::of(model, inner, v_index);
  const Index k = static_cast<Index>(k1) * k2;

  // Per task, summed afterwards in task order (the result does not depend on
  // the thread count).
  std::vector<double> losses(count), dlogs(count, 0.0);
  std::vector<Mat> du1(count), du2(count);
  Eigen::MatrixXd dv0s(k, count), dds = Eigen::MatrixXd::Zero(k, count);
  parallel_for(count, threads, [&](long task) {
    const tasks::EpisodeOf<S> e = episode(task);
    const Index ns = e.xs.rows(), rows = ns * m;
    const Mat ts = e.xs * u1;  // t_s^T in row s
    TaskSolve t;
    t.a = kron_design(ts, u2);
    t.b = support_targets(e.ys);
    t.c2 = 2.0 / static_cast<double>(rows);
    solve_forward(solver, t);
    const Mat v = Eigen::Map<const Eigen::MatrixXd>(t.v_final.data(), k2, k1).template cast<S>();

    const S coef = S(2) / (static_cast<S>(e.xq.rows()) * static_cast<S>(m));
    const Mat tq = e.xq * u1;  // Nq x k1
    const Mat rq = tq * v.transpose() * u2.transpose() - e.yq;
    losses[task] = static_cast<double>(rq.squaredNorm()) / (static_cast<double>(e.xq.rows()) * m);
    const Mat ru = rq * u2;  // Nq x k2
    const Mat hmat = coef * (ru.transpose() * tq);  // k2 x k1
    Mat g2 = coef * (rq.transpose() * (tq * v.transpose()));
    Mat g1 = coef * (e.xq.transpose() * (ru * v));

    const TaskGrad g = solve_backward(solver, t, Eigen::Map<const Mat>(hmat.data(), k, 1).template cast<double>());
    if (solver.has_support_term()) {
      const Mat z = support_gradient(t, g).template cast<S>();
      for (Index s = 0; s < ns; ++s) {
        Eigen::Matrix<S, Eigen::Dynamic, 1> dt(k1);
        for (int c = 0; c < k1; ++c) {
          const auto zsc = z.block(s * m, c * k2, m, k2);
          g2 += ts(s, c) * zsc;
          dt(c) = zsc.cwiseProduct(u2).sum();
        }
        g1 += e.xs.row(s).transpose() * dt.transpose();
      }
    }
    du1[task] = std::move(g1);
    du2[task] = std::move(g2);
    dv0s.col(task) = g.dv0;
    if (g.dd.size()) dds.col(task) = g.dd;
    dlogs[task] = g.dlog_lambda;
  });

  BatchResultOf<S> r;
  const double inv = 1.0 / static_cast<double>(count);
  for (double l : losses) r.mean_loss += l;
  r.mean_loss *= inv;
  Mat s1 = du1[0], s2 = du2[0];
  for (long t = 1; t < count; ++t) {
    s1 += du1[t];
    s2 += du2[t];
  }
  r.mean_grads.resize(model.params.size());
  r.mean_grads[u1_index] = s1 * static_cast<S>(inv);
  r.mean_grads[u2_index] = s2 * static_cast<S>(inv);
  r.mean_grads[v_index] = (dv0s.rowwise().sum() * inv).template cast<S>();
  solver_grads(model, v_index, dds, dlogs, r.mean_grads);
  return r;
}

double kron_ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e) {
  const Eigen::MatrixXd& u1 = model.params[model.find("U1")].value;
  const Eigen::MatrixXd& u2 = model.params[model.find("U2")].value;
  TaskSolve t;
  t.a = kron_design(Eigen::MatrixXd(e.xs * u1), u2);
  t.b = support_targets(e.ys);
  t.c2 = 2.0 / static_cast<double>(t.a.rows());
  solve_forward(Solver::of(model, InnerLoop{}, model.find("v0")), t);
  const Eigen::Map<const Eigen::MatrixXd> v(t.v_final.data(), u2.cols(), u1.cols());
  const Eigen::MatrixXd r = e.xq * u1 * v.transpose() * u2.transpose() - e.yq;
  return r.squaredNorm() / (static_cast<double>(e.xq.rows()) * u2.rows());
}

template BatchResultOf<float> kron_fused_batch<float>(const msr::MetaModel&, const InnerLoop&, long,
                                                      const std::function<tasks::EpisodeOf<float>(long)>&, int);
template BatchResultOf<double> kron_fused_batch<double>(const msr::MetaModel&, const InnerLoop&, long,
                                                        const std::function<tasks::EpisodeOf<double>(long)>&, int);

}  // namespace symlearn::msr
