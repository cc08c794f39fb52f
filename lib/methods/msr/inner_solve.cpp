#include "methods/msr/inner_solve.hpp"

#include <cmath>

namespace symlearn::msr {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

Solver Solver::of(const msr::MetaModel& model, const InnerLoop& inner, int v_index) {
  Solver s;
  s.ridge = model.arch.ridge();
  s.steps = inner.steps;
  s.first_order = inner.first_order;
  s.v0 = model.params[v_index].value.reshaped();
  const Index k = s.v0.size();
  s.d = VectorXd::Constant(k, model.arch.inner_lr);
  if (const int lr = model.inner_lr_of(v_index); lr >= 0) {
    const MatrixXd& l = model.params[lr].value;
    s.d = l.size() == 1 ? VectorXd::Constant(k, l(0, 0)) : VectorXd(l.reshaped());
  }
  if (s.ridge) s.lambda = std::exp(model.params[model.find("log_lambda")].value(0, 0));
  return s;
}

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

MatrixXd support_gradient(const TaskSolve& t, const TaskGrad& g) {
  const Index r = g.l.cols();
  MatrixXd left(t.a.rows(), 2 * r + 1), right(t.a.cols(), 2 * r + 1);
  left << t.a * g.l, t.a * g.r, t.b;
  right << g.r, g.l, g.ebar;
  return t.c2 * (left * right.transpose());
}

template <class S>
void solver_grads(const msr::MetaModel& model, int v_index, const MatrixXd& dd, const std::vector<double>& dlog,
                  std::vector<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& grads) {
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const double inv = 1.0 / static_cast<double>(dd.cols());
  if (const int lr = model.inner_lr_of(v_index); lr >= 0) {
    const VectorXd mean = dd.rowwise().sum() * inv;
    const MatrixXd& l = model.params[lr].value;
    grads[lr] = (l.size() == 1 ? MatrixXd::Constant(1, 1, mean.sum()) : MatrixXd(mean.reshaped(l.rows(), l.cols())))
                    .template cast<S>();
  }
  if (const int li = model.find("log_lambda"); li >= 0) {
    double sum = 0;
    for (double x : dlog) sum += x;  // in task order
    grads[li] = Mat::Constant(1, 1, static_cast<S>(sum * inv));
  }
}

template void solver_grads<float>(const msr::MetaModel&, int, const MatrixXd&, const std::vector<double>&,
                                  std::vector<Eigen::MatrixXf>&);
template void solver_grads<double>(const msr::MetaModel&, int, const MatrixXd&, const std::vector<double>&,
                                   std::vector<Eigen::MatrixXd>&);

}  // namespace symlearn::msr
