#include "learn/adam.hpp"

#include "util/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace symlearn::learn {

template <class S>
void AdamOf<S>::update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Mat>& grads, int threads) {
  if (m.empty()) {
    for (auto* p : params) {
      m.push_back(Mat::Zero(p->rows(), p->cols()));
      v.push_back(Mat::Zero(p->rows(), p->cols()));
    }
  }
  ++step;
  const double c1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double c2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const S b1 = static_cast<S>(beta1), b2 = static_cast<S>(beta2);
  const S rate = static_cast<S>(lr), k1 = static_cast<S>(c1), k2 = static_cast<S>(c2), e = static_cast<S>(eps);
  // Block by block, so that each block's moments and values stay in L1
  // across the three vectorised statements: the update is memory-bound, and
  // the image models have ~10^5-10^6 entries.
  constexpr Eigen::Index kBlock = 4096;
  std::vector<std::pair<std::size_t, Eigen::Index>> blocks;
  for (std::size_t i = 0; i < params.size(); ++i)
    for (Eigen::Index j = 0; j < m[i].size(); j += kBlock) blocks.emplace_back(i, j);
  parallel_for(static_cast<long>(blocks.size()), blocks.size() > 8 ? threads : 1, [&](long b) {
    const auto [i, j] = blocks[static_cast<std::size_t>(b)];
    const Eigen::Index len = std::min(kBlock, m[i].size() - j);
    // One fused pass over the moments, gradient and parameters (a plain
    // loop GCC vectorises): Eigen left the expression over a reshaped
    // parameter scalar, and separate passes made this memory-bound update
    // 40 % of a learned-sharing inner step (250k parameters).
    S* mp = m[i].data() + j;
    S* vp = v[i].data() + j;
    const S* gp = grads[i].data() + j;
    double* pp = params[i]->data() + j;
    const double shrink = 1.0 - lr * decay;  // 1 without decoupled decay
    for (Eigen::Index q = 0; q < len; ++q) {
      const S g = gp[q];
      mp[q] = b1 * mp[q] + (S(1) - b1) * g;
      vp[q] = b2 * vp[q] + (S(1) - b2) * (g * g);
      const double p = decay != 0 ? pp[q] * shrink : pp[q];
      pp[q] = p - static_cast<double>(rate * (mp[q] / k1) / (std::sqrt(vp[q] / k2) + e));
    }
  });
}

template struct AdamOf<double>;
template struct AdamOf<float>;

void sgd_update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads, double lr) {
  for (std::size_t i = 0; i < params.size(); ++i) *params[i] -= lr * grads[i];
}

}  // namespace symlearn::learn
