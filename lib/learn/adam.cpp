#include "learn/adam.hpp"

#include <cmath>

namespace symlearn::learn {

void Adam::update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads) {
  if (m.empty()) {
    for (auto* p : params) {
      m.push_back(Eigen::MatrixXd::Zero(p->rows(), p->cols()));
      v.push_back(Eigen::MatrixXd::Zero(p->rows(), p->cols()));
    }
  }
  ++step;
  const double c1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double c2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  for (std::size_t i = 0; i < params.size(); ++i) {
    m[i] = beta1 * m[i] + (1.0 - beta1) * grads[i];
    v[i] = beta2 * v[i] + (1.0 - beta2) * grads[i].cwiseAbs2();
    params[i]->array() -= lr * (m[i].array() / c1) / ((v[i].array() / c2).sqrt() + eps);
  }
}

void sgd_update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads, double lr) {
  for (std::size_t i = 0; i < params.size(); ++i) *params[i] -= lr * grads[i];
}

}  // namespace symlearn::learn
