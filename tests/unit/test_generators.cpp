// Generator discovery (issue 16): the periodic-sinc operators and their exact
// generators, the generator-pairs file, the discovery methods, and gd's loss
// against finite differences.
#include <doctest/doctest.h>

#include <unsupported/Eigen/MatrixFunctions>

#include <cmath>
#include <random>

#include "gradcheck.hpp"
#include "io/h5.hpp"
#include "methods/generators/discover.hpp"
#include "tasks/generator_pairs.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

using namespace symlearn;
using Eigen::MatrixXd;

namespace {
constexpr double kRad = 3.14159265358979323846 / 180;

MatrixXd noise_columns(int d, int n, std::uint64_t seed) {
  Rng rng(seed);
  MatrixXd x(d, n);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = rng.normal();
  return x;
}
}  // namespace

TEST_CASE("periodic-sinc shift: exactly exp(t L) for odd lengths; L is the derivative at 0") {
  for (int n : {9, 10}) {
    CAPTURE(n);
    const MatrixXd l = tasks::shift_generator(n);
    CHECK((tasks::shift_operator(n, 0) - MatrixXd::Identity(n, n)).norm() < 1e-12);
    CHECK((tasks::shift_operator(n, 3) - MatrixXd::Identity(n, n).rowwise().reverse()).norm() > 1);  // moved
    // A whole-pixel shift is a cyclic permutation.
    const MatrixXd one = tasks::shift_operator(n, 1);
    for (int p = 0; p < n; ++p) CHECK(one(p, (p - 1 + n) % n) == doctest::Approx(1.0));
    // Central differences converge to L at second order.
    double prev = 0;
    for (double h : {1e-2, 5e-3}) {
      const double err = ((tasks::shift_operator(n, h) - tasks::shift_operator(n, -h)) / (2 * h) - l).norm();
      if (prev > 0) CHECK(prev / err == doctest::Approx(4.0).epsilon(0.05));
      prev = err;
    }
    const double t = 0.7;
    const double gap = ((t * l).exp() - tasks::shift_operator(n, t)).norm();
    if (n % 2) {
      CHECK(gap < 1e-10);  // odd n: the shifted interpolant is the same trigonometric polynomial
    } else {
      // even n: the Nyquist mode (-1)^p is scaled by cos(pi t) by the shift, kept by exp(t L) (D
      // maps it to 0): the two differ by exactly that rank-one term.
      CHECK(gap == doctest::Approx(1 - std::cos(3.14159265358979323846 * t)).epsilon(1e-9));
    }
  }
}

TEST_CASE("periodic-sinc rotation: L = dG/dt at 0 (per radian), skew; exp(t L) and G_t agree to second order") {
  const int n = 7;
  const MatrixXd l = tasks::rotation_generator(n);
  CHECK((tasks::rotation_operator(n, 0) - MatrixXd::Identity(n * n, n * n)).norm() < 1e-12);
  CHECK((l + l.transpose()).norm() < 1e-10 * l.norm());  // rotations preserve the norm of the interpolant's samples to first order
  double prev = 0;
  for (double h : {0.02, 0.01}) {
    const MatrixXd fd = (tasks::rotation_operator(n, h) - tasks::rotation_operator(n, -h)) / (2 * h * kRad);
    const double err = (fd - l).norm() / l.norm();
    CHECK(err < 1e-3);
    if (prev > 0) CHECK(prev / err == doctest::Approx(4.0).epsilon(0.05));
    prev = err;
  }
  // A quarter turn of a 7x7 grid maps pixels onto pixels: a permutation.
  const MatrixXd q = tasks::rotation_operator(n, 90);
  CHECK((q.cwiseAbs().rowwise().sum().array() - 1).abs().maxCoeff() < 1e-9);
  // exp(t L) against G_t: the gap grows like t^2 (the turned interpolant is not band-limited).
  auto gap = [&](double deg) {
    return ((deg * kRad * l).exp() - tasks::rotation_operator(n, deg)).norm() / tasks::rotation_operator(n, deg).norm();
  };
  const double g1 = gap(1), g2 = gap(2);
  CHECK(g1 < 0.02);
  CHECK(g2 / g1 == doctest::Approx(4.0).epsilon(0.25));
}

TEST_CASE("generator-pairs file: y = G_t x, the truth stored, bad specs refused") {
  testutil::TempDir dir;
  tasks::GeneratorPairsSpec s;
  s.size = 5;
  s.amount = 3;
  s.pairs = 30;
  s.test_pairs = 7;
  {
    io::Writer w(dir.file("p.h5"), "tasks", "test", s.config());
    tasks::write_generator_pairs(s, w);
    w.commit();
  }
  io::Reader f(dir.file("p.h5"), "tasks");
  const tasks::GeneratorPairs tr = tasks::load_generator_pairs(f, "/train");
  CHECK(tr.dim == 25);
  CHECK(tr.x.cols() == 30);
  CHECK((tr.y - tasks::rotation_operator(5, 3) * tr.x).norm() < 1e-10);
  CHECK((tasks::load_true_generator(f) - tasks::rotation_generator(5)).norm() < 1e-12);
  CHECK(tasks::load_generator_pairs(f, "/test").x.cols() == 7);
  tasks::GeneratorPairsSpec bad = s;
  bad.transform = "scale";
  CHECK_THROWS_AS(bad.validate(), InputError);
  bad = s;
  bad.size = 65;
  CHECK_THROWS_AS(bad.validate(), InputError);
  bad = s;
  bad.range_lo = 2;
  bad.range_hi = 1;
  CHECK_THROWS_AS(bad.validate(), InputError);
}

TEST_CASE("discovery: lstsq at a fixed small angle and spectral on an angle range find the true generator") {
  const int n = 7, d = 49, pairs = 196;
  const MatrixXd truth = tasks::rotation_generator(n);
  const MatrixXd x = noise_columns(d, pairs, 3);
  const MatrixXd y = tasks::rotation_operator(n, 1) * x;
  generators::DiscoverOptions o;
  o.method = "lstsq";
  o.amount = 1 * kRad;
  for (const char* e : {"difference", "central", "log"}) {
    CAPTURE(e);
    o.estimate = e;
    const generators::Discovery r = generators::discover_generator(x, y, o);
    CHECK(generators::abs_cosine(r.generator, truth) > 0.99);
    CHECK(generators::first_order_residual(r.generator, x, y) < 1e-2);
  }
  // The angle range: t_i ~ U(-2, 2) degrees per pair, symmetric, so the
  // closed-form map averages to I + O(t^2) and finds nothing; spectral does.
  MatrixXd yr(d, pairs);
  Rng rng(5);
  for (int i = 0; i < pairs; ++i) yr.col(i) = tasks::rotation_operator(n, rng.uniform(-2, 2)) * x.col(i);
  o.estimate = "difference";
  o.amount = 1;
  CHECK(generators::abs_cosine(generators::discover_generator(x, yr, o).generator, truth) < 0.3);
  o.method = "spectral";
  const generators::Discovery s = generators::discover_generator(x, yr, o);
  CHECK(generators::abs_cosine(s.generator, truth) > 0.99);
  CHECK(s.residual.back() <= s.residual.front());
  // On the half of the pairs moved least (smallest |t_i|) it still finds it.
  o.keep_smallest = 0.5;
  CHECK(generators::abs_cosine(generators::discover_generator(x, yr, o).generator, truth) > 0.98);
  // A random matrix is nowhere near it (the measure can fail).
  CHECK(generators::abs_cosine(noise_columns(d, d, 9), truth) < 0.1);
}

TEST_CASE("cosines: sign-free, and the span cosine of a combination is 1") {
  const MatrixXd a = noise_columns(6, 6, 1), b = noise_columns(6, 6, 2);
  CHECK(generators::abs_cosine(a, -a) == doctest::Approx(1.0));
  CHECK(generators::abs_cosine(a, b) < 0.9);
  CHECK(generators::span_cosine({a, b}, a - 2 * b) == doctest::Approx(1.0));
  CHECK(generators::span_cosine({a}, a - 2 * b) == doctest::Approx(generators::abs_cosine(a, a - 2 * b)));
}

TEST_CASE("gd's pair loss: first-order and Hessian-vector finite-difference checks") {
  std::mt19937 g(4);
  const ad::Mat x = gradcheck::random_mat(g, 4, 6), y = gradcheck::random_mat(g, 4, 6);
  const std::vector<ad::Mat> xs = {gradcheck::random_mat(g, 4, 4), gradcheck::random_mat(g, 1, 6)};
  const gradcheck::Fn fn = [&](const std::vector<ad::Var>& p) { return generators::pair_loss(p[0], p[1], x, y); };
  CHECK(gradcheck::check_first_order(fn, xs).ok);
  CHECK(gradcheck::check_second_order(fn, xs, gradcheck::random_like(g, xs)).ok);
  // Its value: mean over pairs of |x_i + t_i L x_i - y_i|^2.
  std::vector<ad::Var> p = {ad::constant(xs[0]), ad::constant(xs[1])};
  const ad::Mat r = x + (xs[0] * x) * xs[1].row(0).asDiagonal() - y;
  CHECK(fn(p).item() == doctest::Approx(r.squaredNorm() / 6));
}
