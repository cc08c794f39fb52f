// Locally connected task generator: the algebra of W and U_true, validation,
// and the generated data against its definition.
#include "io/h5.hpp"
#include "tasks/locally_connected.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

using namespace symlearn;
using Eigen::MatrixXd;

namespace {
Eigen::VectorXd vec(const MatrixXd& m) { return Eigen::Map<const Eigen::VectorXd>(m.data(), m.size()); }

MatrixXd randn(Rng& rng, int r, int c) {
  MatrixXd m(r, c);
  for (int j = 0; j < c; ++j)
    for (int i = 0; i < r; ++i) m(i, j) = rng.normal();
  return m;
}
}  // namespace

TEST_CASE("tasks: vec(W) = U_true vec(B) for every rank") {
  Rng rng(1);
  for (int rank : {1, 2, 5}) {
    const int n = 9, s = 3, m = n - s + 1;
    MatrixXd conn = rank == 1 ? MatrixXd::Ones(m, 1) : randn(rng, m, rank);
    MatrixXd basis = randn(rng, rank, s);
    MatrixXd w = tasks::lc_weights(conn * basis, n);
    MatrixXd u = tasks::lc_symmetry(conn, n, s);
    CHECK(u.rows() == m * n);
    CHECK(u.cols() == rank * s);
    CHECK((u * vec(basis) - vec(w)).norm() < 1e-12);
  }
  // Rank 1: U_true is 0/1 with exactly one 1 per band entry, and W is banded.
  MatrixXd u = tasks::lc_symmetry(MatrixXd::Ones(4, 1), 6, 3);
  CHECK(u.sum() == 12);
  CHECK((u.array() * (1 - u.array())).abs().maxCoeff() == 0);
  MatrixXd w = tasks::lc_weights(MatrixXd::Ones(4, 3), 6);
  CHECK(w(0, 0) == 1);
  CHECK(w(0, 3) == 0);
  CHECK(w(3, 5) == 1);
  CHECK(w(3, 2) == 0);
}

TEST_CASE("tasks: connectivity is a row-softmax shared by the dataset") {
  tasks::LocallyConnectedSpec spec;
  spec.rank = 3;
  spec.seed = 11;
  MatrixXd c = tasks::lc_connectivity(spec);
  CHECK(c.rows() == spec.output_dim());
  CHECK(c.cols() == 3);
  CHECK((c.rowwise().sum().array() - 1).abs().maxCoeff() < 1e-12);
  CHECK(c.minCoeff() > 0);
  CHECK(c.isApprox(tasks::lc_connectivity(spec)));
  spec.seed = 12;
  CHECK_FALSE(c.isApprox(tasks::lc_connectivity(spec)));
}

TEST_CASE("tasks: options are validated with the option's name") {
  auto msg = [](tasks::LocallyConnectedSpec s) {
    try {
      s.validate();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("valid");
  };
  tasks::LocallyConnectedSpec s;
  CHECK(msg(s) == "valid");
  s.kernel = 71;
  CHECK(msg(s).find("--kernel 71 is larger than --input-dim 70") == 0);
  s = {};
  s.tasks = 3;
  s.test_fraction = 0.1;  // rounds to 0 test tasks
  CHECK(msg(s).find("leaves a split empty") != std::string::npos);
  s = {};
  s.noise = -1;
  CHECK(msg(s).find("--noise") == 0);
  s = {};
  s.kernel = 70;  // m = 1 is allowed
  CHECK(msg(s) == "valid");
}

TEST_CASE("tasks: generated data follows the definition and ignores the thread count") {
  char tmpl[] = "/tmp/symlearn-unit.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  tasks::LocallyConnectedSpec spec;
  spec.rank = 2;
  spec.kernel = 4;
  spec.input_dim = 15;
  spec.tasks = 600;  // more than one block of tasks
  spec.samples = 6;
  spec.noise = 0.0;
  spec.seed = 7;
  long last = 0;
  for (int threads : {1, 3}) {
    io::Writer w(dir + "/t" + std::to_string(threads) + ".h5", "tasks", "unit", spec.config());
    tasks::write_locally_connected(spec, w, threads, [&](long done) { last = done; });
    w.commit();
  }
  CHECK(last == 600);
  io::Reader r1(dir + "/t1.h5", "tasks"), r3(dir + "/t3.h5", "tasks");
  const int m = spec.output_dim(), n = spec.input_dim, s = spec.kernel, N = spec.samples;
  const auto x = r1.read("/test/x", {120, N, n});
  const auto y = r1.read("/test/y", {120, N, m});
  const auto w = r1.read("/test/w", {120, m, s});
  CHECK(x.data == r3.read("/test/x").data);
  CHECK(r1.read("/train/y").data == r3.read("/train/y").data);
  double worst = 0;
  for (int t = 0; t < 120; ++t)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < m; ++j) {
        double acc = 0;
        for (int k = 0; k < s; ++k) acc += w.data[(t * m + j) * s + k] * x.data[(t * N + i) * n + j + k];
        worst = std::max(worst, std::abs(acc - y.data[(t * N + i) * m + j]));
      }
  CHECK(worst < 1e-5);
  const auto conn = r1.read("/truth/connectivity", {m, 2});
  CHECK(r1.read("/truth/symmetry", {m * n, 2 * s}).size() == std::uint64_t(m * n * 2 * s));
  CHECK(conn.data[0] + conn.data[1] == doctest::Approx(1.0));
  std::system(("rm -rf '" + dir + "'").c_str());
}
