#include "tasks/dataset.hpp"

#include "util/error.hpp"

namespace symlearn::tasks {

RegressionSplit load_regression(const io::Reader& file, const std::string& split) {
  if (!file.has(split)) throw InputError(file.name() + ": has no " + split + " split");
  RegressionSplit d;
  d.name = split;
  const io::Shape xs = file.shape(split + "/x"), ys = file.shape(split + "/y");
  if (xs.size() != 3 || ys.size() != 3)
    throw InputError(file.name() + ": " + split + "/x and /y must have shape [T,N,dim] (got " + io::shape_str(xs) +
                     " and " + io::shape_str(ys) + ")");
  if (xs[0] != ys[0] || xs[1] != ys[1])
    throw InputError(file.name() + ": " + split + "/x " + io::shape_str(xs) + " and " + split + "/y " +
                     io::shape_str(ys) + " disagree on tasks or examples");
  if (xs[0] == 0 || xs[1] == 0) throw InputError(file.name() + ": " + split + " holds no examples");
  d.tasks = static_cast<long>(xs[0]);
  d.samples = static_cast<int>(xs[1]);
  d.input_dim = static_cast<int>(xs[2]);
  d.output_dim = static_cast<int>(ys[2]);
  d.x = file.read(split + "/x").data;
  d.y = file.read(split + "/y").data;
  return d;
}

Episode make_episode(const RegressionSplit& data, long t, const std::vector<int>& rows, int support, int query) {
  Episode e;
  const auto x = data.x_of(t);
  const auto y = data.y_of(t);
  e.xs.resize(support, data.input_dim);
  e.ys.resize(support, data.output_dim);
  e.xq.resize(query, data.input_dim);
  e.yq.resize(query, data.output_dim);
  for (int i = 0; i < support; ++i) {
    e.xs.row(i) = x.row(rows[i]);
    e.ys.row(i) = y.row(rows[i]);
  }
  for (int i = 0; i < query; ++i) {
    e.xq.row(i) = x.row(rows[support + i]);
    e.yq.row(i) = y.row(rows[support + i]);
  }
  return e;
}

}  // namespace symlearn::tasks
