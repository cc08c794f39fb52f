// Adam (Kingma & Ba 2015) with bias correction, over a list of matrices; its
// state is plain data so checkpoints can save and restore it exactly.
#pragma once

#include <Eigen/Dense>

#include <vector>

namespace symlearn::learn {

struct Adam {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  long step = 0;
  std::vector<Eigen::MatrixXd> m, v;  // first and second moments, one per parameter

  // params[i] -= lr * mhat / (sqrt(vhat) + eps), moments initialised on first use.
  void update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads);
};

// Plain gradient descent, for comparison with the papers that use it.
void sgd_update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads, double lr);

}  // namespace symlearn::learn
