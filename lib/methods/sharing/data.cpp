#include "methods/sharing/data.hpp"

#include "util/error.hpp"

#include <cmath>

namespace symlearn::sharing {

std::string tasks_kind(const io::Reader& file) {
  return file.has_attr("/", "kind") ? file.attr_string("/", "kind") : "";
}

SumSplit load_sum_split(const io::Reader& file, const std::string& split, int length, int vocab) {
  const std::string xs = split + "/x", ys = split + "/y";
  if (!file.has(xs) || !file.has(ys)) throw InputError(file.name() + ": has no " + xs + " and " + ys);
  io::Shape shape;
  std::vector<std::int64_t> tokens = file.read_ints(xs, &shape);
  if (shape.size() != 3 || shape[0] != 1 || shape[1] == 0)
    throw InputError(file.name() + ": " + xs + " has shape " + io::shape_str(shape) + ", expected [1,N,L]");
  SumSplit s;
  s.name = split;
  s.n = static_cast<long>(shape[1]);
  s.length = static_cast<int>(shape[2]);
  if (length > 0 && s.length != length)
    throw InputError(file.name() + ": " + xs + " has sequences of length " + std::to_string(s.length) +
                     " but the model needs " + std::to_string(length));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 1 || tokens[i] > vocab)
      throw InputError(file.name() + ": " + xs + " holds token " + std::to_string(tokens[i]) + " outside 1.." +
                       std::to_string(vocab));
  }
  s.tokens.assign(tokens.begin(), tokens.end());
  const io::Array y = file.read(ys, {1, static_cast<long long>(s.n), 1});
  s.y = Eigen::Map<const Eigen::VectorXd>(y.data.data(), s.n);
  s.batch = sharing::make_token_batch(s.tokens, s.n, s.length, vocab);
  return s;
}

SumSplit join(const SumSplit& a, const SumSplit& b) {
  SumSplit s;
  s.name = a.name + "+" + b.name;
  s.n = a.n + b.n;
  s.length = a.length;
  s.tokens = a.tokens;
  s.tokens.insert(s.tokens.end(), b.tokens.begin(), b.tokens.end());
  s.y.resize(s.n);
  s.y << a.y, b.y;
  s.batch = sharing::make_token_batch(s.tokens, s.n, s.length, static_cast<int>(a.batch.onehot.at(0).cols()));
  return s;
}

Eigen::MatrixXd load_gaussian_split(const io::Reader& file, const std::string& split, int dim) {
  const std::string xs = split + "/x";
  if (!file.has(xs)) throw InputError(file.name() + ": has no " + xs);
  const io::Shape shape = file.shape(xs);
  if (shape.size() != 3 || shape[0] != 1 || shape[1] == 0)
    throw InputError(file.name() + ": " + xs + " has shape " + io::shape_str(shape) + ", expected [1,N,K]");
  if (dim > 0 && static_cast<int>(shape[2]) != dim)
    throw InputError(file.name() + ": " + xs + " has " + std::to_string(shape[2]) + " coordinates but the model needs " +
                     std::to_string(dim));
  const io::Array x = file.read(xs);
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMat>(x.data.data(), static_cast<long>(shape[1]), static_cast<long>(shape[2]));
}

Eigen::MatrixXd load_true_sharing(const io::Reader& file, int length) {
  const io::Array a = file.read("/truth/sharing", {length, length});
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::MatrixXd m = Eigen::Map<const RowMat>(a.data.data(), length, length);
  for (int i = 0; i < length; ++i) {
    if ((m.row(i).array() != 0).count() != 1 || std::abs(m.row(i).sum() - 1.0) > 1e-12)
      throw InputError(file.name() + ": /truth/sharing row " + std::to_string(i) + " is not one-hot");
  }
  return m;
}

}  // namespace symlearn::sharing
