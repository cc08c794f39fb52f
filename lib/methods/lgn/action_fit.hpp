// The sterile experiments of Theodosis et al. 2023 (section 5.2): one action
// A fitted to patch pairs y = T x by y ~ A x (MSE), with the authors'
// optimiser (Adam lr 0.01, batch 128, learning rate halved at 1/2, 3/4 and
// 7/8 of the epochs, gradient-norm clipping at 2), with or without A scaled
// back to unit Frobenius norm after each step. Adam's per-entry step sizes
// and the projection settle away from the constrained optimum (README: the
// sterile table), so plain projected gradient descent is offered beside it.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::lgn {

struct ActionFitOptions {
  int epochs = 30;
  long batch = 128;
  double lr = 0.01, clip = 2;
  std::string projection = "fro";  // fro | none
  std::string optimizer = "adam";  // adam (the authors') | sgd (projected gradient descent)
  std::uint64_t seed = 0;
  void validate() const;  // InputError
};

struct ActionFit {
  Eigen::MatrixXd a;
  std::vector<double> epoch_loss;  // mean squared error over each epoch's batches
  long steps = 0;
};

// x, y: d x N, one pair per column.
ActionFit fit_action(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const ActionFitOptions& o);

// mean((A x - y)^2) over every entry.
double action_mse(const Eigen::MatrixXd& a, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y);

}  // namespace symlearn::lgn
