#include "tasks/sharing_tasks.hpp"

#include "util/error.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <sstream>

namespace symlearn::tasks {

namespace {

// Streams: 0 for dataset-level truth, then one per split in file order.
constexpr std::uint64_t kTruthStream = 0;
constexpr std::uint64_t kTrainStream = 1, kValStream = 2, kHyperStream = 3, kTestStream = 4;

// Upper bounds that keep a file (and the memory to build it) sane: A_gt is a
// dense side x side matrix, and a split is built in memory before it is written.
constexpr int kMaxSide = 4096;
constexpr double kMaxSplitValues = 1e9;

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

[[noreturn]] void bad(const std::string& message) { throw InputError(message); }

void check_side(const char* option, int value) {
  if (value < 1 || value > kMaxSide)
    bad(std::string(option) + " must be in [1, " + std::to_string(kMaxSide) + "] (got " + std::to_string(value) + ")");
}

void check_size(const char* option, long n, int width) {
  if (n < 1) bad(std::string(option) + " must be at least 1 (got " + std::to_string(n) + ")");
  if (static_cast<double>(n) * width > kMaxSplitValues)
    bad(std::string(option) + " " + std::to_string(n) + " x " + std::to_string(width) +
        " values is too large (at most 1e9 values per split)");
}

void check_nonnegative(const char* option, double v) {
  if (!std::isfinite(v) || v < 0) bad(std::string(option) + " must be a finite number >= 0 (got " + num(v) + ")");
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void write_matrix(io::Writer& out, const std::string& name, const Eigen::MatrixXd& m) {
  const RowMajor r = m;
  out.write(name, {std::uint64_t(r.rows()), std::uint64_t(r.cols())}, r.data());
}

void write_vector(io::Writer& out, const std::string& name, const Eigen::VectorXd& v) {
  out.write(name, {std::uint64_t(v.size())}, v.data());
}

}  // namespace

// --- sum-of-numbers ----------------------------------------------------------

void SumOfNumbersSpec::validate() const {
  check_side("--length", length);
  if (rank != 1 && rank != 2) bad("--rank must be 1 or 2 (got " + std::to_string(rank) + ")");
  if (rank > length)
    bad("--rank " + std::to_string(rank) + " needs --length at least " + std::to_string(rank) + " (got " +
        std::to_string(length) + ")");
  if (!std::isfinite(w_scale)) bad("--w-scale must be a finite number (got " + num(w_scale) + ")");
  check_nonnegative("--noise", noise);
  check_size("--train", train, length);
  check_size("--val", val, length);
  check_size("--hyper", hyper, length);
  check_size("--test", test, length);
}

nlohmann::json SumOfNumbersSpec::config() const {
  return {{"kind", "sum-of-numbers"}, {"length", length}, {"rank", rank}, {"w_scale", w_scale},
          {"noise", noise},           {"train", train},   {"val", val},   {"hyper", hyper},
          {"test", test},             {"seed", seed}};
}

Eigen::MatrixXd sum_of_numbers_sharing(const SumOfNumbersSpec& spec) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(spec.length, spec.length);
  for (int p = 0; p < spec.length; ++p) a(p, spec.rank == 1 ? 0 : p % 2) = 1.0;
  return a;
}

Eigen::VectorXd sum_of_numbers_weights(const SumOfNumbersSpec& spec) {
  Eigen::VectorXd v = Eigen::VectorXd::Zero(spec.length);
  if (spec.rank == 1) {
    v(0) = 1.0;
  } else {
    v(0) = spec.w_scale;
    v(1) = 1.0;
  }
  return sum_of_numbers_sharing(spec) * v;  // exact: one nonzero term per row
}

const std::string& digit_word(std::int64_t digit) {
  static const std::array<std::string, 10> words = {"zero", "one", "two",   "three", "four",
                                                    "five", "six", "seven", "eight", "nine"};
  if (digit < 0 || digit > 9) throw std::logic_error("digit_word: not a digit");
  return words[static_cast<std::size_t>(digit)];
}

void write_sum_of_numbers(const SumOfNumbersSpec& spec, io::Writer& out) {
  spec.validate();
  const int L = spec.length;
  const Eigen::VectorXd w = sum_of_numbers_weights(spec);
  out.attr("/", "kind", std::string("sum-of-numbers"));

  const struct {
    const char* name;
    long n;
    std::uint64_t stream;
    bool noisy;
  } splits[] = {{"/train", spec.train, kTrainStream, true},
                {"/val", spec.val, kValStream, true},
                {"/hyper", spec.hyper, kHyperStream, true},
                {"/test", spec.test, kTestStream, false}};
  for (const auto& split : splits) {
    const std::string g = split.name;
    const auto N = static_cast<std::size_t>(split.n);
    std::vector<std::int64_t> x(N * L);
    std::vector<double> y(N);
    std::vector<std::string> words(N * L);
    Rng rng(spec.seed, split.stream);
    for (std::size_t i = 0; i < N; ++i) {
      std::int64_t* xi = x.data() + i * L;
      double acc = 0.0;
      for (int p = 0; p < L; ++p) {
        xi[p] = 1 + static_cast<std::int64_t>(rng.below(9));
        acc += w(p) * static_cast<double>(xi[p]);
      }
      if (split.noisy) acc += rng.uniform(-spec.noise, spec.noise);
      y[i] = acc;
    }
    for (std::size_t k = 0; k < N * L; ++k) words[k] = digit_word(x[k]);
    out.write(g + "/x", {1, N, std::uint64_t(L)}, x.data());
    out.write(g + "/y", {1, N, 1}, y.data());
    out.write_strings(g + "/words", {1, N, std::uint64_t(L)}, words);
    out.attr(g + "/x", "description", std::string("tokens: digits 1..9, uniform"));
    out.attr(g + "/y", "description",
             std::string("y = sum_p w_p x_p, w = /truth/weights") +
                 (split.noisy ? " + uniform noise in [-a, a], a = config noise" : " (no noise)"));
    out.attr(g + "/words", "description", std::string("x spelled out: \"one\" ... \"nine\""));
  }

  write_matrix(out, "/truth/sharing", sum_of_numbers_sharing(spec));
  out.attr("/truth/sharing", "description",
           std::string("A_gt (L x L), rows one-hot: position p shares the weight of its group ") +
               (spec.rank == 1 ? "(rank 1: one group)" : "p % 2 (rank 2: even, odd)"));
  write_vector(out, "/truth/weights", w);
  out.attr("/truth/weights", "description", std::string("the true weights w_p: y = sum_p w_p x_p"));
}

// --- gaussian-sharing --------------------------------------------------------

void GaussianSharingSpec::validate() const {
  check_side("--dim", dim);
  if (rank < 1 || rank > dim)
    bad("--rank must be in [1, --dim " + std::to_string(dim) + "] (got " + std::to_string(rank) + ")");
  check_nonnegative("--sigma", sigma);
  check_size("--train", train, dim);
  check_size("--val", val, dim);
  check_size("--test", test, dim);
}

nlohmann::json GaussianSharingSpec::config() const {
  return {{"kind", "gaussian-sharing"}, {"dim", dim},   {"rank", rank}, {"sigma", sigma},
          {"train", train},             {"val", val},   {"test", test}, {"seed", seed}};
}

std::vector<int> gaussian_groups(const GaussianSharingSpec& spec) {
  // A random order of the coordinates: the first `rank` of it open the groups
  // 0..rank-1 (so none is empty), the others join a group drawn uniformly.
  Rng rng(spec.seed, kTruthStream);
  std::vector<int> order(spec.dim);
  std::iota(order.begin(), order.end(), 0);
  for (int k = spec.dim - 1; k > 0; --k)
    std::swap(order[k], order[rng.below(static_cast<std::uint64_t>(k) + 1)]);
  std::vector<int> group(spec.dim);
  for (int i = 0; i < spec.dim; ++i)
    group[order[i]] = i < spec.rank ? i : static_cast<int>(rng.below(static_cast<std::uint64_t>(spec.rank)));
  return group;
}

Eigen::VectorXd gaussian_psi(const GaussianSharingSpec& spec) {
  Eigen::VectorXd psi = Eigen::VectorXd::Zero(spec.dim);
  for (int j = 0; j < spec.rank; ++j) psi(j) = 3.0 * (j + 1);
  return psi;
}

void write_gaussian_sharing(const GaussianSharingSpec& spec, io::Writer& out) {
  spec.validate();
  const int K = spec.dim;
  const std::vector<int> group = gaussian_groups(spec);
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(K, K);
  for (int k = 0; k < K; ++k) a(k, group[k]) = 1.0;
  const Eigen::VectorXd psi = gaussian_psi(spec);
  const Eigen::VectorXd theta = a * psi;
  out.attr("/", "kind", std::string("gaussian-sharing"));

  const struct {
    const char* name;
    long n;
    std::uint64_t stream;
  } splits[] = {{"/train", spec.train, kTrainStream}, {"/val", spec.val, kValStream}, {"/test", spec.test, kTestStream}};
  for (const auto& split : splits) {
    const auto N = static_cast<std::size_t>(split.n);
    std::vector<double> x(N * K);
    Rng rng(spec.seed, split.stream);
    for (std::size_t i = 0; i < N; ++i)
      for (int k = 0; k < K; ++k) x[i * K + k] = theta(k) + spec.sigma * rng.normal();
    const std::string g = split.name;
    out.write(g + "/x", {1, N, std::uint64_t(K)}, x.data());
    out.attr(g + "/x", "description", std::string("x ~ N(theta, sigma^2 I), theta = /truth/means"));
  }

  write_matrix(out, "/truth/sharing", a);
  out.attr("/truth/sharing", "description",
           std::string("A_gt (K x K), rows one-hot: coordinate k belongs to group argmax_j A_gt[k, j]"));
  write_vector(out, "/truth/psi", psi);
  out.attr("/truth/psi", "description", std::string("group means psi_j = 3 (j + 1) for j < rank, zero beyond"));
  write_vector(out, "/truth/means", theta);
  out.attr("/truth/means", "description", std::string("theta = A_gt psi, the mean of every x"));
}

}  // namespace symlearn::tasks
