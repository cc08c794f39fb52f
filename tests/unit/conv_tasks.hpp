// A rank-1 (convolution) regression episode for the MSR tests: a filter f
// of s taps drawn per task, n standard-normal inputs per example, targets
// W x with W[j, j+t] = f[t], plus label noise of this std when noise > 0.
#pragma once

#include "tasks/dataset.hpp"
#include "tasks/locally_connected.hpp"
#include "util/rng.hpp"

namespace testutil {

inline symlearn::tasks::Episode conv_episode(symlearn::Rng& rng, int n, int s, int support, int query,
                                             double noise = 0) {
  using Mat = Eigen::MatrixXd;
  const int m = n - s + 1;
  Mat f(1, s);
  for (int t = 0; t < s; ++t) f(0, t) = rng.normal();
  const Mat w = symlearn::tasks::lc_weights(Mat::Ones(m, 1) * f, n);
  auto draw = [&](int rows) {
    Mat x(rows, n);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < rows; ++i) x(i, j) = rng.normal();
    return x;
  };
  auto noisy = [&](Mat y) {
    if (noise > 0)
      for (Eigen::Index i = 0; i < y.size(); ++i) y(i) += noise * rng.normal();
    return y;
  };
  symlearn::tasks::Episode e;
  e.xs = draw(support);
  e.xq = draw(query);
  e.ys = noisy(e.xs * w.transpose());
  e.yq = noisy(e.xq * w.transpose());
  return e;
}

}  // namespace testutil
