// Adam (Kingma & Ba 2015) with bias correction, over a list of matrices; its
// state is plain data so checkpoints can save and restore it exactly.
// AdamOf<float> keeps its moments and does its arithmetic in float (for
// float32 training, where the update is a third of a step's time in double)
// while the parameters it updates stay double.
#pragma once

#include <Eigen/Dense>

#include <vector>

namespace symlearn::learn {

template <class S>
struct AdamOf {
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  // AdamW's decoupled weight decay (Loshchilov & Hutter 2019): each step
  // first shrinks params by (1 - lr * decay), outside the moments.
  double decay = 0;
  long step = 0;
  std::vector<Mat> m, v;  // first and second moments, one per parameter

  // params[i] -= lr * mhat / (sqrt(vhat) + eps), moments initialised on first use.
  // Entry-wise, so `threads` splits it without changing a single bit.
  void update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Mat>& grads, int threads = 1);

  // The same state with the moments converted (float -> double -> float is
  // exact: checkpoints hold double, a float run resumes bit-identically).
  template <class T>
  AdamOf<T> cast() const {
    AdamOf<T> o;
    o.lr = lr, o.beta1 = beta1, o.beta2 = beta2, o.eps = eps, o.decay = decay, o.step = step;
    for (const auto& x : m) o.m.push_back(x.template cast<T>());
    for (const auto& x : v) o.v.push_back(x.template cast<T>());
    return o;
  }
};
using Adam = AdamOf<double>;

extern template struct AdamOf<double>;
extern template struct AdamOf<float>;

// Plain gradient descent, for comparison with the papers that use it.
void sgd_update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads, double lr);

}  // namespace symlearn::learn
