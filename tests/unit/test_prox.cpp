// Proximal operators against their definition: a numerical minimiser of
// ½‖w − z‖² + t·Ω(w) (smoothed, by gradient descent with continuation).
#include "prox/prox.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace symlearn;
using Eigen::VectorXd;

namespace {
// ½‖w − z‖² + t Ω(w) for one group; Ω with |x| and ‖x‖₂ smoothed by eps.
double objective(const VectorXd& w, const VectorXd& z, const prox::Spec& s, double eps) {
  const double t = s.lambda * s.step;
  double l1 = 0, l2 = 0;
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    l1 += std::sqrt(w(i) * w(i) + eps * eps) - eps;
    l2 += w(i) * w(i);
  }
  const double norm = std::sqrt(l2 + eps * eps) - eps;
  double omega = 0;
  switch (s.op) {
    case prox::Op::l1: omega = l1; break;
    case prox::Op::group: omega = norm; break;
    case prox::Op::exclusive: omega = 0.5 * l1 * l1; break;
    case prox::Op::combined: omega = s.group_weight * norm + s.exclusive_weight * 0.5 * l1 * l1; break;
  }
  return 0.5 * (w - z).squaredNorm() + t * omega;
}

// Gradient descent with backtracking on the smoothed objective, eps -> 1e-10.
VectorXd minimise(const VectorXd& z, const prox::Spec& s) {
  VectorXd w = z;
  for (double eps = 1e-2; eps >= 1e-10; eps /= 10) {
    for (int it = 0; it < 4000; ++it) {
      VectorXd g(w.size());
      for (Eigen::Index i = 0; i < w.size(); ++i) {  // central differences: cheap and exact enough here
        const double h = 1e-7 * (1 + std::abs(w(i)));
        VectorXd a = w, b = w;
        a(i) += h;
        b(i) -= h;
        g(i) = (objective(a, z, s, eps) - objective(b, z, s, eps)) / (2 * h);
      }
      if (g.norm() < 1e-12) break;
      double step = 1.0;
      const double f = objective(w, z, s, eps);
      while (step > 1e-14 && objective(w - step * g, z, s, eps) > f - 0.5 * step * g.squaredNorm()) step *= 0.5;
      w -= step * g;
    }
  }
  return w;
}

double exact_objective(const VectorXd& w, const VectorXd& z, const prox::Spec& s) { return objective(w, z, s, 0.0); }

void check_against_minimiser(const VectorXd& z, const prox::Spec& s) {
  const VectorXd p = prox::prox_group(z, s);
  const VectorXd q = minimise(z, s);
  CAPTURE(prox::op_name(s.op));
  CAPTURE(s.lambda);
  CAPTURE(z.transpose());
  CAPTURE(p.transpose());
  CAPTURE(q.transpose());
  // The closed form is at least as good as the minimiser, and close to it.
  CHECK(exact_objective(p, z, s) <= exact_objective(q, z, s) + 1e-9);
  CHECK((p - q).norm() < 1e-4 * (1 + z.norm()));
}
}  // namespace

TEST_CASE("prox: every operator minimises its objective on random groups") {
  Rng rng(17);
  for (auto op : {prox::Op::l1, prox::Op::group, prox::Op::exclusive, prox::Op::combined}) {
    for (double lambda : {0.05, 0.3, 1.0}) {
      for (int size : {1, 2, 5}) {
        VectorXd z(size);
        for (int i = 0; i < size; ++i) z(i) = rng.normal();
        prox::Spec s{op, lambda, 1.0, 0.7, 1.3};
        check_against_minimiser(z, s);
      }
    }
  }
}

TEST_CASE("prox: zeros, ties and signs") {
  for (auto op : {prox::Op::l1, prox::Op::group, prox::Op::exclusive, prox::Op::combined}) {
    prox::Spec s{op, 0.2, 1.0, 0.5, 1.0};
    check_against_minimiser((VectorXd(4) << 0.0, 0.0, 0.0, 0.0).finished(), s);
    check_against_minimiser((VectorXd(4) << 1.0, -1.0, 1.0, 0.0).finished(), s);     // ties in |z|
    check_against_minimiser((VectorXd(5) << 0.5, 0.5, -0.5, 0.1, -0.1).finished(), s);
    const VectorXd p = prox::prox_group((VectorXd(3) << 2.0, -1.5, 0.0).finished(), s);
    CHECK(p(0) >= 0);
    CHECK(p(1) <= 0);
    CHECK(p(2) == 0);
  }
}

TEST_CASE("prox: lambda 0 is the identity, a huge lambda zeroes the group") {
  const VectorXd z = (VectorXd(4) << 0.3, -2.0, 1.0, 0.01).finished();
  for (auto op : {prox::Op::l1, prox::Op::group, prox::Op::exclusive, prox::Op::combined}) {
    CHECK(prox::prox_group(z, {op, 0.0, 1.0, 1.0, 1.0}) == z);
    // The exclusive lasso shrinks the largest entry to |z|max / (1 + t) but
    // never exactly to zero; the others reach zero.
    const double left = prox::prox_group(z, {op, 1e12, 1.0, 1.0, 1.0}).norm();
    if (op == prox::Op::exclusive) CHECK(left == doctest::Approx(2.0 / (1.0 + 1e12)).epsilon(1e-6));
    else CHECK(left == 0.0);
  }
  // The exclusive lasso keeps the largest entry longest (it competes within a group).
  const VectorXd p = prox::prox_group(z, {prox::Op::exclusive, 0.4, 1.0, 1.0, 1.0});
  CHECK(p(1) < 0);
  CHECK(p(3) == 0);
  CHECK_THROWS_AS(prox::prox_group(z, {prox::Op::l1, -1.0, 1.0, 1.0, 1.0}), InputError);
}

TEST_CASE("prox: groupings of an msr-fc U and whole-matrix application") {
  const int m = 3, n = 4, k = 2;
  const auto input = prox::make_groups("input", m * n, k, m);
  const auto output = prox::make_groups("output", m * n, k, m);
  // Entry U[(i,j), c] sits at column-major index c*mn + i + j*m.
  CHECK(input[1 * m * n + 2 + 3 * m] == 3);   // W[2,3] belongs to input feature 3
  CHECK(output[1 * m * n + 2 + 3 * m] == 2);  // and to output 2
  CHECK(prox::make_groups("latent", m * n, k, m)[m * n] == 1);
  CHECK(prox::make_groups("row", m * n, k, m)[m * n + 5] == 5);
  CHECK_THROWS_AS(prox::make_groups("diagonal", m * n, k, m), InputError);

  Eigen::MatrixXd u = Eigen::MatrixXd::Random(m * n, k);
  Eigen::MatrixXd v = u;
  prox::Spec s{prox::Op::group, 0.5, 1.0, 1.0, 1.0};
  prox::apply(v, input, s);
  // Each input feature's block (m rows x k columns) is scaled as one vector.
  for (int j = 0; j < n; ++j) {
    Eigen::VectorXd z(m * k), want;
    for (int c = 0; c < k; ++c) z.segment(c * m, m) = u.block(j * m, c, m, 1);
    want = prox::prox_group(z, s);
    for (int c = 0; c < k; ++c) CHECK((v.block(j * m, c, m, 1) - want.segment(c * m, m)).norm() < 1e-15);
  }
  CHECK(prox::sparsity(Eigen::MatrixXd::Zero(2, 2)) == 1.0);
  CHECK(prox::sparsity((Eigen::MatrixXd(2, 2) << 1, 0, 1e-8, 0.5).finished()) == 0.5);
}
