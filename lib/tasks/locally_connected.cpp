#include "tasks/locally_connected.hpp"

#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace symlearn::tasks {

namespace {
constexpr std::uint64_t kConnectivityStream = 0;
std::uint64_t task_stream(long task) { return static_cast<std::uint64_t>(task) + 1; }
constexpr long kBlockTasks = 256;  // tasks generated between writes: bounds memory
}  // namespace

long LocallyConnectedSpec::test_tasks() const {
  return static_cast<long>(std::llround(static_cast<double>(tasks) * test_fraction));
}

void LocallyConnectedSpec::validate() const {
  auto bad = [](const std::string& m) { throw InputError(m); };
  if (kernel < 1) bad("--kernel must be at least 1 (got " + std::to_string(kernel) + ")");
  if (input_dim < 1) bad("--input-dim must be at least 1 (got " + std::to_string(input_dim) + ")");
  if (output_dim() < 1)
    bad("--kernel " + std::to_string(kernel) + " is larger than --input-dim " + std::to_string(input_dim) +
        " (the output dimension n - s + 1 must be at least 1)");
  if (rank < 1) bad("--rank must be at least 1 (got " + std::to_string(rank) + ")");
  // Refused before any work: the truth U is (m*n) x (rank*kernel) doubles.
  if (input_dim > 4096) bad("--input-dim must be in [1, 4096] (got " + std::to_string(input_dim) + ")");
  if (rank > 256) bad("--rank must be in [1, 256] (got " + std::to_string(rank) + ")");
  if (double(output_dim()) * input_dim * rank * kernel > double(1 << 27))
    bad("--input-dim " + std::to_string(input_dim) + ", --kernel " + std::to_string(kernel) + " and --rank " +
        std::to_string(rank) + " make /truth/symmetry over 2^27 entries");
  if (samples > 1000000) bad("--samples must be in [1, 1000000]");
  if (samples < 1) bad("--samples must be at least 1 (got " + std::to_string(samples) + ")");
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) bad("--test-fraction must be in [0, 1)");
  if (!(noise >= 0.0) || !std::isfinite(noise)) bad("--noise must be a finite standard deviation >= 0");
  if (tasks < 2) bad("--tasks must be at least 2 (one for /train, one for /test)");
  if (test_tasks() < 1 || train_tasks() < 1)
    bad("--tasks " + std::to_string(tasks) + " with --test-fraction " + std::to_string(test_fraction) +
        " leaves a split empty");
}

nlohmann::json LocallyConnectedSpec::config() const {
  return {{"kind", "locally-connected"}, {"rank", rank},       {"kernel", kernel},
          {"input_dim", input_dim},     {"output_dim", output_dim()}, {"tasks", tasks},
          {"train_tasks", train_tasks()}, {"test_tasks", test_tasks()}, {"samples", samples},
          {"test_fraction", test_fraction}, {"noise", noise},  {"permute_inputs", permute_inputs},
          {"seed", seed}};
}

Eigen::MatrixXd lc_weights(const Eigen::MatrixXd& filters, int input_dim) {
  const Eigen::Index m = filters.rows(), s = filters.cols();
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(m, input_dim);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index t = 0; t < s; ++t) w(j, j + t) = filters(j, t);
  return w;
}

Eigen::MatrixXd lc_symmetry(const Eigen::MatrixXd& connectivity, int input_dim, int kernel) {
  const Eigen::Index m = connectivity.rows(), r = connectivity.cols();
  Eigen::MatrixXd u = Eigen::MatrixXd::Zero(m * input_dim, r * kernel);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index t = 0; t < kernel; ++t)
      for (Eigen::Index a = 0; a < r; ++a) u(j + (j + t) * m, a + t * r) = connectivity(j, a);
  return u;
}

Eigen::MatrixXd lc_connectivity(const LocallyConnectedSpec& spec) {
  const int m = spec.output_dim();
  if (spec.rank == 1) return Eigen::MatrixXd::Ones(m, 1);
  Rng rng(spec.seed, kConnectivityStream);
  Eigen::MatrixXd c(m, spec.rank);
  for (int j = 0; j < m; ++j)
    for (int a = 0; a < spec.rank; ++a) c(j, a) = rng.normal();
  // Row softmax, shifted by the row maximum for stability.
  for (int j = 0; j < m; ++j) {
    c.row(j) = (c.row(j).array() - c.row(j).maxCoeff()).exp();
    c.row(j) /= c.row(j).sum();
  }
  return c;
}

namespace {

// One split's arrays for a block of tasks, row-major as stored.
struct Block {
  std::vector<float> x, y, w, b;
  std::vector<std::int64_t> perm;
};

// Generates task `task` (global index) into slot `slot` of `blk`. Values are
// rounded to float32 before y is computed, so y matches the stored x and w.
void generate_task(const LocallyConnectedSpec& spec, const Eigen::MatrixXd& conn, long task, long slot,
                   Block& blk) {
  const int n = spec.input_dim, m = spec.output_dim(), s = spec.kernel, r = spec.rank, N = spec.samples;
  Rng rng(spec.seed, task_stream(task));
  Eigen::MatrixXd basis(r, s);
  for (int a = 0; a < r; ++a)
    for (int t = 0; t < s; ++t) basis(a, t) = static_cast<float>(rng.normal());
  Eigen::MatrixXd filters = conn * basis;

  float* b = blk.b.data() + slot * r * s;
  float* w = blk.w.data() + slot * m * s;
  float* x = blk.x.data() + slot * N * n;
  float* y = blk.y.data() + slot * N * m;
  for (int a = 0; a < r; ++a)
    for (int t = 0; t < s; ++t) b[a * s + t] = static_cast<float>(basis(a, t));
  for (int j = 0; j < m; ++j)
    for (int t = 0; t < s; ++t) {
      w[j * s + t] = static_cast<float>(filters(j, t));
      filters(j, t) = w[j * s + t];
    }
  for (int i = 0; i < N; ++i) {
    float* xi = x + i * n;
    for (int k = 0; k < n; ++k) xi[k] = static_cast<float>(rng.normal());
    for (int j = 0; j < m; ++j) {
      double acc = 0.0;
      for (int t = 0; t < s; ++t) acc += filters(j, t) * static_cast<double>(xi[j + t]);
      if (spec.noise > 0) acc += spec.noise * rng.normal();
      y[i * m + j] = static_cast<float>(acc);
    }
  }
  if (!spec.permute_inputs) return;
  // Drawn after everything else, so the unpermuted data match a file made
  // without the option. Fisher-Yates: perm[k] is the input now at position k.
  std::int64_t* perm = blk.perm.data() + slot * n;
  for (int k = 0; k < n; ++k) perm[k] = k;
  for (int k = n - 1; k > 0; --k) std::swap(perm[k], perm[rng.below(static_cast<std::uint64_t>(k) + 1)]);
  std::vector<float> orig(n);
  for (int i = 0; i < N; ++i) {
    float* xi = x + i * n;
    std::copy(xi, xi + n, orig.begin());
    for (int k = 0; k < n; ++k) xi[k] = orig[perm[k]];
  }
}

}  // namespace

void write_locally_connected(const LocallyConnectedSpec& spec, io::Writer& out, int threads,
                             const std::function<void(long)>& progress) {
  spec.validate();
  const int n = spec.input_dim, m = spec.output_dim(), s = spec.kernel, r = spec.rank, N = spec.samples;
  const Eigen::MatrixXd conn = lc_connectivity(spec);

  out.attr("/", "kind", std::string("locally-connected"));
  long done = 0;
  const struct {
    const char* name;
    long first, count;
  } splits[] = {{"/train", 0, spec.train_tasks()}, {"/test", spec.train_tasks(), spec.test_tasks()}};
  for (const auto& split : splits) {
    const std::string g = split.name;
    const auto T = static_cast<std::uint64_t>(split.count);
    out.create(g + "/x", {T, std::uint64_t(N), std::uint64_t(n)}, io::DType::f32);
    out.create(g + "/y", {T, std::uint64_t(N), std::uint64_t(m)}, io::DType::f32);
    out.create(g + "/w", {T, std::uint64_t(m), std::uint64_t(s)}, io::DType::f32);
    out.create(g + "/b", {T, std::uint64_t(r), std::uint64_t(s)}, io::DType::f32);
    out.attr(g + "/w", "description", std::string("per-task filters F (m x s): y_j = sum_t F[j,t] x[j+t]"));
    out.attr(g + "/b", "description", std::string("per-task basis B (r x s): F = C B, C = /truth/connectivity"));
    if (spec.permute_inputs) {
      out.create(g + "/permutation", {T, std::uint64_t(n)}, io::DType::i64);
      out.attr(g + "/permutation", "description",
               std::string("per-task input permutation: x[:, k] holds input perm[k] of the layer, "
                           "y = W x_orig with x_orig[perm[k]] = x[k]"));
    }
    Block blk;
    for (long first = 0; first < split.count; first += kBlockTasks) {
      const long count = std::min(kBlockTasks, split.count - first);
      blk.x.resize(count * N * n);
      blk.y.resize(count * N * m);
      blk.w.resize(count * m * s);
      blk.b.resize(count * r * s);
      if (spec.permute_inputs) blk.perm.resize(count * n);
      parallel_for(count, threads, [&](long i) { generate_task(spec, conn, split.first + first + i, i, blk); });
      out.write_slab(g + "/x", first, count, blk.x.data());
      out.write_slab(g + "/y", first, count, blk.y.data());
      out.write_slab(g + "/w", first, count, blk.w.data());
      out.write_slab(g + "/b", first, count, blk.b.data());
      if (spec.permute_inputs) out.write_slab(g + "/permutation", first, count, blk.perm.data());
      done += count;
      if (progress) progress(done);
    }
  }

  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> c = conn;
  out.write("/truth/connectivity", {std::uint64_t(m), std::uint64_t(r)}, c.data());
  out.attr("/truth/connectivity", "description",
           std::string("C (m x r), shared by all tasks: F = C B; ones for rank 1"));
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> u = lc_symmetry(conn, n, s);
  out.write("/truth/symmetry", {std::uint64_t(u.rows()), std::uint64_t(u.cols())}, u.data());
  out.attr("/truth/symmetry", "description",
           std::string("U_true ((m*n) x (r*s)) with vec(W) = U_true vec(B), column-major vec; "
                       "W[j, j+t] = F[j, t]") +
               (spec.permute_inputs ? "; of the layer before each task's input permutation" : ""));
}

}  // namespace symlearn::tasks
