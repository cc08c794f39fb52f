// The inner loop of MSR's layers whose W is linear in the task parameters v
// (msr-fc, msr-kron), as k x k algebra: with the support design A (stacking
// the m x k blocks P_s, W(v) x_s = P_s v) and the stacked targets b, the
// support loss c |A v - b|^2 (c = 1/(Ns m)) has the gradient H v - e,
// H = 2c A^T A, e = 2c A^T b, and every inner solver is a function of
// (H, e, v0): T SGD steps v_{t+1} = v_t - d o (H v_t - e), or the ridge fit
// (H/2 + lambda I)^{-1} (e/2 + lambda v0). The backward pass turns
// h = dLq/dv_T into the gradients of v0, the step sizes (or log lambda), and
// Z = dLq/dA, from which each layer gets its own parameters' gradients
// (fc_kernel.hpp has the formulas).
#pragma once

#include "methods/msr/maml.hpp"

#include <Eigen/Dense>

#include <vector>

namespace symlearn::msr {

// What the solver needs besides (A, b): the same for every task.
struct Solver {
  bool ridge = false;
  int steps = 1;
  bool first_order = false;
  Eigen::VectorXd d;  // sgd: the step size of each entry of v
  double lambda = 0;
  Eigen::VectorXd v0;

  // From the model's parameters (v0 at v_index, its inner_lr_* or log_lambda).
  static Solver of(const msr::MetaModel& model, const InnerLoop& inner, int v_index);
  // Whether the meta-gradient flows through A (all but first-order SGD).
  bool has_support_term() const { return ridge || !first_order; }
};

// One task's solve, kept for its backward pass. H is used through products
// H x = 2c A^T (A x) and formed only for ridge's Cholesky factor.
struct TaskSolve {
  Eigen::MatrixXd a;  // A (Ns m x k)
  Eigen::VectorXd b, e;
  double c2 = 0;                      // 2c = 2 / (Ns m)
  std::vector<Eigen::VectorXd> v, g;  // sgd: v_0 .. v_T, and g_t = H v_t - e
  Eigen::LLT<Eigen::MatrixXd> llt;    // ridge: K = H/2 + lambda I
  Eigen::VectorXd v_final;
  Eigen::VectorXd times_h(const Eigen::VectorXd& x) const { return c2 * (a.transpose() * (a * x)); }
};

// dLq/dH = l r^T (rank <= T for sgd, 1 for ridge; no columns in first order).
struct TaskGrad {
  Eigen::VectorXd dv0, dd;  // dd: per-entry step-size gradient (sgd)
  double dlog_lambda = 0;
  Eigen::MatrixXd l, r;
  Eigen::VectorXd ebar;  // dLq/de
};

// The stacked support targets b (block s = y_s, m entries) of the rows of ys, in double.
template <class Derived>
Eigen::VectorXd support_targets(const Eigen::MatrixBase<Derived>& ys) {
  return ys.transpose().template cast<double>().reshaped();
}

void solve_forward(const Solver& s, TaskSolve& t);
TaskGrad solve_backward(const Solver& s, const TaskSolve& t, const Eigen::VectorXd& h);

// Z = dLq/dA = 2c (A (Hbar + Hbar^T) + b ebar^T), from Hbar's factors.
Eigen::MatrixXd support_gradient(const TaskSolve& t, const TaskGrad& g);

// The batch means of the step-size gradients dd (k x B, one column per task)
// or of dlog_lambda into grads at the model's inner_lr_* / log_lambda index.
template <class S>
void solver_grads(const msr::MetaModel& model, int v_index, const Eigen::MatrixXd& dd,
                  const std::vector<double>& dlog, std::vector<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>& grads);

}  // namespace symlearn::msr
