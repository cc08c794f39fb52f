#include "tasks/dataset.hpp"

#include "util/error.hpp"

namespace symlearn::tasks {

namespace {
using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Row-major [T,N,dim] (as stored) -> per task, N x dim column-major, in place
// (one task's block at a time goes through a copy, not the whole split).
void to_task_columns(std::vector<float>& data, long tasks, int samples, int dim) {
  const long block = static_cast<long>(samples) * dim;
  RowMatF one(samples, dim);
  for (long t = 0; t < tasks; ++t) {
    one = Eigen::Map<const RowMatF>(data.data() + t * block, samples, dim);
    Eigen::Map<Eigen::MatrixXf>(data.data() + t * block, samples, dim) = one;
  }
}
}  // namespace

RegressionSplit load_regression(const io::Reader& file, const std::string& split) {
  if (!file.has(split)) throw InputError(file.name() + ": has no " + split + " split");
  RegressionSplit d;
  d.file = file.name();
  d.name = split;
  const io::Shape xs = file.shape(split + "/x"), ys = file.shape(split + "/y");
  if (xs.size() != 3 || ys.size() != 3)
    throw InputError(file.name() + ": " + split + "/x and /y must have shape [T,N,dim] (got " + io::shape_str(xs) +
                     " and " + io::shape_str(ys) + ")");
  if (xs[0] != ys[0] || xs[1] != ys[1])
    throw InputError(file.name() + ": " + split + "/x " + io::shape_str(xs) + " and " + split + "/y " +
                     io::shape_str(ys) + " disagree on tasks or examples");
  if (xs[0] == 0 || xs[1] == 0) throw InputError(file.name() + ": " + split + " holds no examples");
  if (xs[2] == 0 || ys[2] == 0 || xs[2] > (1u << 20) || ys[2] > (1u << 20) || xs[1] > (1u << 30))
    throw InputError(file.name() + ": " + split + "/x " + io::shape_str(xs) + " and /y " + io::shape_str(ys) +
                     " need 1 to 2^20 features and at most 2^30 examples per task");
  d.tasks = static_cast<long>(xs[0]);
  d.samples = static_cast<int>(xs[1]);
  d.input_dim = static_cast<int>(xs[2]);
  d.output_dim = static_cast<int>(ys[2]);
  d.x = file.read_floats(split + "/x");
  to_task_columns(d.x, d.tasks, d.samples, d.input_dim);
  d.y = file.read_floats(split + "/y");
  to_task_columns(d.y, d.tasks, d.samples, d.output_dim);
  return d;
}

template <class S>
EpisodeOf<S> make_episode_as(const RegressionSplit& data, long t, const std::vector<int>& rows, int support, int query) {
  EpisodeOf<S> e;
  const auto x = data.x_of(t);
  const auto y = data.y_of(t);
  e.xs.resize(support, data.input_dim);
  e.ys.resize(support, data.output_dim);
  e.xq.resize(query, data.input_dim);
  e.yq.resize(query, data.output_dim);
  // Column by column: sequential writes, reads within one short column.
  // (Raw pointers: through Eigen's operator() this was a tenth of a rank-1 step.)
  auto gather = [&](const auto& src, typename EpisodeOf<S>::Mat& dst, int first, int count) {
    const int* r = rows.data() + first;
    for (Eigen::Index j = 0; j < src.cols(); ++j) {
      const float* from = src.data() + j * src.rows();
      S* to = dst.data() + j * count;
      for (int i = 0; i < count; ++i) to[i] = static_cast<S>(from[r[i]]);
    }
  };
  gather(x, e.xs, 0, support);
  gather(y, e.ys, 0, support);
  gather(x, e.xq, support, query);
  gather(y, e.yq, support, query);
  return e;
}

template EpisodeOf<float> make_episode_as<float>(const RegressionSplit&, long, const std::vector<int>&, int, int);
template EpisodeOf<double> make_episode_as<double>(const RegressionSplit&, long, const std::vector<int>&, int, int);

}  // namespace symlearn::tasks
