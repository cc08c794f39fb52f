#include "learn/adam.hpp"

#include "util/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
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
    auto mi = m[i].reshaped().segment(j, len).array();
    auto vi = v[i].reshaped().segment(j, len).array();
    const auto g = grads[i].reshaped().segment(j, len).array();
    mi = b1 * mi + (S(1) - b1) * g;
    vi = b2 * vi + (S(1) - b2) * g.square();
    auto p = params[i]->reshaped().segment(j, len).array();
    if constexpr (std::is_same_v<S, double>) {
      p -= rate * (mi / k1) / ((vi / k2).sqrt() + e);
    } else {
      // A plain loop: Eigen leaves this float -> double expression scalar
      // (sqrt and division one by one), which was a quarter of an msr step;
      // GCC vectorises the loop.
      const S* mp = m[i].data() + j;
      const S* vp = v[i].data() + j;
      double* pp = params[i]->data() + j;
      for (Eigen::Index q = 0; q < len; ++q)
        pp[q] -= static_cast<double>(rate * (mp[q] / k1) / (std::sqrt(vp[q] / k2) + e));
    }
  });
}

template struct AdamOf<double>;
template struct AdamOf<float>;

void sgd_update(std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads, double lr) {
  for (std::size_t i = 0; i < params.size(); ++i) *params[i] -= lr * grads[i];
}

}  // namespace symlearn::learn
