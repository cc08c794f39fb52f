// Regression task sets read from a tasks file: one split (x [T,N,n],
// y [T,N,m]) held in memory, and the support/query episodes drawn from it.
#pragma once

#include "io/h5.hpp"

#include <Eigen/Dense>

#include <string>
#include <vector>

namespace symlearn::tasks {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct RegressionSplit {
  std::string file;  // the tasks file it came from, for messages
  std::string name;  // "/train", ...
  long tasks = 0;
  int samples = 0, input_dim = 0, output_dim = 0;
  // Task after task, each task's N x dim matrix stored column-major, so that
  // gathering an episode's rows reads and writes whole columns. Held as
  // float32, as gen-tasks stores them (half the memory; episodes are double).
  std::vector<float> x, y;

  Eigen::Map<const Eigen::MatrixXf> x_of(long t) const {
    return {x.data() + t * samples * input_dim, samples, input_dim};
  }
  Eigen::Map<const Eigen::MatrixXf> y_of(long t) const {
    return {y.data() + t * samples * output_dim, samples, output_dim};
  }
};

// Reads `split` ("/train", "/test", ...) of a regression tasks file, checking
// that x and y agree on T and N. InputError names the file and dataset.
RegressionSplit load_regression(const io::Reader& file, const std::string& split);

// One task's support and query sets (rows are examples), in double or, for
// the float32 training kernels, in float.
template <class S>
struct EpisodeOf {
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  Mat xs, ys, xq, yq;
};
using Episode = EpisodeOf<double>;

// The episode of task t whose support rows are `rows[0..support)` and query
// rows `rows[support..support+query)`.
template <class S>
EpisodeOf<S> make_episode_as(const RegressionSplit& data, long t, const std::vector<int>& rows, int support, int query);
inline Episode make_episode(const RegressionSplit& data, long t, const std::vector<int>& rows, int support, int query) {
  return make_episode_as<double>(data, t, rows, support, query);
}

}  // namespace symlearn::tasks
