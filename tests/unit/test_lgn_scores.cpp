// LGN action scores (Theodosis, Helwani and Ba 2023) on constructed actions
// of known structure, their scale invariance, and the random baseline.
#include "methods/lgn/scores.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace symlearn;
using namespace symlearn::lgn;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
constexpr int kP = 6, kD = kP * kP;

MatrixXd randn(Rng& rng, int r, int c) {
  MatrixXd m(r, c);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = rng.normal();
  return m;
}

MatrixXd circulant(const VectorXd& first_col) {
  const Eigen::Index n = first_col.size();
  MatrixXd a(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) a(i, j) = first_col[((i - j) % n + n) % n];
  return a;
}

// The counter-clockwise quarter turn of a p x p patch: out(r, c) = in(c, p-1-r).
MatrixXd rot90(int p) {
  MatrixXd a = MatrixXd::Zero(p * p, p * p);
  for (int r = 0; r < p; ++r)
    for (int c = 0; c < p; ++c) a(r * p + c, c * p + (p - 1 - r)) = 1;
  return a;
}

// The 3 x 3 mean filter on the p x p grid; outside the grid either 0 or
// mirrored without repeating the edge (numpy's "reflect": -1 -> 1, p -> p-2).
MatrixXd box_filter(int p, bool reflect) {
  MatrixXd a = MatrixXd::Zero(p * p, p * p);
  const auto mirror = [p](int i) { return i < 0 ? -i : i >= p ? 2 * (p - 1) - i : i; };
  for (int r = 0; r < p; ++r)
    for (int c = 0; c < p; ++c)
      for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          int rr = r + dr, cc = c + dc;
          if (reflect) {
            rr = mirror(rr);
            cc = mirror(cc);
          } else if (rr < 0 || rr >= p || cc < 0 || cc >= p) {
            continue;
          }
          a(r * p + c, rr * p + cc) += 1.0 / 9;
        }
  return a;
}
}  // namespace

TEST_CASE("lgn scores: the names, their order and lookup") {
  const auto& names = score_names();
  REQUIRE(names.size() == 11);
  CHECK(names.front() == "skew_share");
  CHECK(names[4] == "conv2d_share");
  CHECK(names.back() == "closure");
  const ActionScores s = action_scores(MatrixXd::Identity(kD, kD), kP, 4);
  REQUIRE(s.values.size() == names.size());
  for (std::size_t k = 0; k < names.size(); ++k) CHECK(s[names[k]] == s.values[k]);
  CHECK_THROWS_AS(s["no_such_score"], InputError);
  CHECK_THROWS_AS(action_scores(MatrixXd::Identity(35, 35), kP, 4), InputError);
  CHECK_THROWS_AS(action_scores(MatrixXd::Identity(kD, kD), kP, 0), InputError);
}

TEST_CASE("lgn scores: the identity") {
  const ActionScores s = action_scores(MatrixXd::Identity(kD, kD), kP, 4);
  CHECK(s["skew_share"] == doctest::Approx(0.0));
  CHECK(s["triangularity"] == doctest::Approx(1.0));
  CHECK(s["toeplitz_share"] == doctest::Approx(1.0));
  CHECK(s["circulant_share"] == doctest::Approx(1.0));
  CHECK(s["conv2d_share"] == doctest::Approx(1.0));
  CHECK(s["quadrant_coherence"] == doctest::Approx(1.0));
  CHECK(s["block_coherence"] == doctest::Approx(1.0));
  CHECK(s["block_participation"] == doctest::Approx(1.0 / kP));  // p of p^2 blocks, equal energy
  CHECK(s["sigma_min"] == doctest::Approx(1.0 / kP));            // 1 / sqrt(d)
  CHECK(s["condition"] == doctest::Approx(1.0));
  CHECK(s["closure"] == doctest::Approx(0.0));
}

TEST_CASE("lgn scores: circulant and Toeplitz shares") {
  Rng rng(11);
  const MatrixXd c = circulant(randn(rng, kD, 1).col(0));
  const ActionScores sc = action_scores(c, kP, 4);
  CHECK(sc["circulant_share"] == doctest::Approx(1.0).epsilon(1e-12));
  // Every circulant is Toeplitz (each diagonal i - j = k holds c[k mod d]).
  CHECK(sc["toeplitz_share"] == doctest::Approx(1.0).epsilon(1e-12));
  // and so a 2-D convolution: i - j = (r1 - r2) p + (c1 - c2) is fixed by the offset.
  CHECK(sc["conv2d_share"] == doctest::Approx(1.0).epsilon(1e-12));

  // Toeplitz, not circulant: an independent value on every diagonal, so the
  // two parts of each wrapped diagonal disagree.
  const VectorXd diag = randn(rng, 2 * kD - 1, 1).col(0);
  MatrixXd t(kD, kD);
  for (int i = 0; i < kD; ++i)
    for (int j = 0; j < kD; ++j) t(i, j) = diag[i - j + kD - 1];
  const ActionScores st = action_scores(t, kP, 4);
  CHECK(st["toeplitz_share"] == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(st["circulant_share"] < 0.8);
  CHECK(st["circulant_share"] > 0.2);

  // A band above the diagonal: Toeplitz, triangular, and nearly circulant
  // (each wrapped diagonal misses only its short, zero part).
  MatrixXd band = MatrixXd::Zero(kD, kD);
  for (int i = 0; i < kD; ++i)
    for (int j = i; j < std::min(kD, i + 4); ++j) band(i, j) = diag[j - i];
  const ActionScores sb = action_scores(band, kP, 4);
  CHECK(sb["toeplitz_share"] == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(sb["triangularity"] == doctest::Approx(1.0));
  CHECK(sb["circulant_share"] < 1 - 1e-3);

  const ActionScores sr = action_scores(randn(rng, kD, kD), kP, 4);
  CHECK(sr["circulant_share"] < 0.15);  // about 1/d
  CHECK(sr["toeplitz_share"] < 0.2);    // about 2/d
}

TEST_CASE("lgn scores: a 2-D box filter is a convolution with zero padding, nearly one with reflect padding") {
  const MatrixXd zero = box_filter(kP, false);
  CHECK(zero.row(0).sum() == doctest::Approx(4.0 / 9));  // a corner sees 4 of 9 pixels
  const ActionScores sz = action_scores(zero, kP, 4);
  CHECK(sz["conv2d_share"] == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(sz["toeplitz_share"] < 0.95);  // the row wrap breaks the 1-D diagonals
  CHECK(sz["skew_share"] == doctest::Approx(0.0));
  CHECK(sz["block_coherence"] == doctest::Approx(1.0));

  const MatrixXd refl = box_filter(kP, true);
  CHECK(refl.rowwise().sum().isApproxToConstant(1.0, 1e-12));  // every output a full 3 x 3 mean
  const ActionScores sr = action_scores(refl, kP, 4);
  CHECK(sr["conv2d_share"] < 0.99);
  CHECK(sr["conv2d_share"] > 0.8);
}

TEST_CASE("lgn scores: the 90 degree rotation of a 6 x 6 patch") {
  const MatrixXd a = rot90(kP);
  // Counter-clockwise as displayed: the top-right pixel goes to the top left.
  VectorXd w = VectorXd::Zero(kD);
  w[0 * kP + (kP - 1)] = 1;
  CHECK((a * w)[0] == 1);
  CHECK((a * a * a * a - MatrixXd::Identity(kD, kD)).norm() == 0);

  const ActionScores s = action_scores(a, kP, 4);
  CHECK(s["closure"] == doctest::Approx(0.0));
  // A^2 is the half turn, traceless for even p: as far from a multiple of I as can be.
  CHECK(action_scores(a, kP, 2)["closure"] == doctest::Approx(1.0));
  // For a permutation P, ||P||^2 = d and ||(P - P^T)/2||^2 = (2d - 2 tr(P^2)) / 4,
  // so skew_share = (d - tr(P^2)) / (2d); the half turn fixes no pixel of a
  // 6 x 6 patch, tr(P^2) = 0, hence 1/2.
  const double tr2 = (a * a).trace();
  CHECK(tr2 == 0);
  CHECK(s["skew_share"] == doctest::Approx((kD - tr2) / (2.0 * kD)));
  CHECK(s["skew_share"] == doctest::Approx(0.5));
  CHECK(s["sigma_min"] == doctest::Approx(1.0 / kP));
  CHECK(s["condition"] == doctest::Approx(1.0));
  // Output row r takes one pixel of every input row: a single 1 in each block.
  CHECK(s["block_participation"] == doctest::Approx(1.0));
  CHECK(s["block_coherence"] == doctest::Approx(1.0));
  // A left-right flip keeps rows: block diagonal, p of p^2 blocks.
  MatrixXd flip = MatrixXd::Zero(kD, kD);
  for (int r = 0; r < kP; ++r)
    for (int c = 0; c < kP; ++c) flip(r * kP + c, r * kP + (kP - 1 - c)) = 1;
  CHECK(action_scores(flip, kP, 2)["block_participation"] == doctest::Approx(1.0 / kP));
  CHECK(action_scores(flip, kP, 2)["closure"] == doctest::Approx(0.0));

  const ArgmaxCheck self = row_argmax_check(a, a);
  CHECK(self.matched == kD);
  CHECK(self.rows == kD);
  Rng rng(5);
  const ArgmaxCheck noisy = row_argmax_check(a + 0.05 * randn(rng, kD, kD), a);
  CHECK(noisy.matched == kD);
  CHECK(noisy.rows == kD);
  const ArgmaxCheck random = row_argmax_check(randn(rng, kD, kD), a);
  CHECK(random.rows == kD);
  CHECK(random.matched <= 6);  // 1 expected by chance
  // Rows whose maximum ties (a box mean's) say nothing about where a pixel comes from: not counted.
  MatrixXd tied = a;
  Eigen::Index j0;
  a.row(0).maxCoeff(&j0);
  tied(0, (j0 + 1) % kD) = 1;
  CHECK(row_argmax_check(a, tied).rows == kD - 1);
  CHECK(row_argmax_check(a, MatrixXd::Constant(kD, kD, 1.0 / kD)).rows == 0);

  CHECK(inverse_residual(a, a.transpose()) == doctest::Approx(0.0));
  CHECK(inverse_residual(a, a) == doctest::Approx(std::sqrt(2.0)));  // A^2 has no fixed point: ||A^2 - I||^2 = 2d
  for (double n : orbit_norms(a, VectorXd::LinSpaced(kD, 1, kD), 4)) CHECK(n == doctest::Approx(1.0));
}

TEST_CASE("lgn scores: skew-symmetric, symmetric and triangular matrices") {
  Rng rng(7);
  const MatrixXd g = randn(rng, kD, kD);
  CHECK(action_scores(g - g.transpose(), kP, 4)["skew_share"] == doctest::Approx(1.0));
  CHECK(action_scores(g + g.transpose(), kP, 4)["skew_share"] == doctest::Approx(0.0));
  const MatrixXd upper = g.triangularView<Eigen::Upper>();
  const MatrixXd lower = g.triangularView<Eigen::StrictlyLower>();
  CHECK(action_scores(upper, kP, 4)["triangularity"] == doctest::Approx(1.0));
  CHECK(action_scores(lower, kP, 4)["triangularity"] == doctest::Approx(1.0));
  const double tri = action_scores(g, kP, 4)["triangularity"];
  CHECK(tri > 0.45);
  CHECK(tri < 0.75);
  // Strictly triangular: singular up to rounding, and nilpotent.
  const ActionScores ss = action_scores(lower, kP, 4);
  CHECK(ss["sigma_min"] < 1e-12);
  CHECK(ss["condition"] > 1e12);
  CHECK(action_scores(lower, kP, kD)["closure"] == 1);  // A^d = 0 exactly: no group
  // Exactly singular: sigma_min 0, condition +inf.
  VectorXd dg = VectorXd::Ones(kD);
  dg[5] = 0;
  const ActionScores s0 = action_scores(dg.asDiagonal().toDenseMatrix(), kP, 4);
  CHECK(s0["sigma_min"] == 0);
  CHECK(s0["condition"] == std::numeric_limits<double>::infinity());
  // The zero matrix.
  const ActionScores sz = action_scores(MatrixXd::Zero(kD, kD), kP, 4);
  CHECK(sz["skew_share"] == 0);
  CHECK(sz["condition"] == std::numeric_limits<double>::infinity());
  CHECK(sz["closure"] == 1);
}

TEST_CASE("lgn scores: quadrant and block coherence, block participation") {
  Rng rng(9);
  const MatrixXd g = randn(rng, kD, kD);
  // A sign per quadrant: each quadrant coherent, the blocks too (p = 6 divides d / 2).
  MatrixXd q = g.cwiseAbs();
  q.topRightCorner(kD / 2, kD / 2) *= -1;
  q.bottomLeftCorner(kD / 2, kD / 2) *= -1;
  const ActionScores sq = action_scores(q, kP, 4);
  CHECK(sq["quadrant_coherence"] == doctest::Approx(1.0));
  CHECK(sq["block_coherence"] == doctest::Approx(1.0));
  // A sign per block, mixed within each quadrant: blocks coherent, quadrants much less so.
  MatrixXd b = g.cwiseAbs();
  for (int i = 0; i < kP; ++i)
    for (int k = 0; k < kP; ++k)
      if ((i + k) % 2) b.block(i * kP, k * kP, kP, kP) *= -1;
  const ActionScores sb = action_scores(b, kP, 4);
  CHECK(sb["block_coherence"] == doctest::Approx(1.0));
  CHECK(sb["quadrant_coherence"] < 0.2);
  // A checkerboard within every block: no coherence anywhere.
  MatrixXd c(kD, kD);
  for (int i = 0; i < kD; ++i)
    for (int j = 0; j < kD; ++j) c(i, j) = (i + j) % 2 ? -1.0 : 1.0;
  const ActionScores sc = action_scores(c, kP, 4);
  CHECK(sc["block_coherence"] == doctest::Approx(0.0));
  CHECK(sc["quadrant_coherence"] == doctest::Approx(0.0));
  CHECK(sc["block_participation"] == doctest::Approx(1.0));  // equal energy in every block
  // All energy in one block.
  MatrixXd one = MatrixXd::Zero(kD, kD);
  one.block(2 * kP, 3 * kP, kP, kP) = g.block(0, 0, kP, kP);
  CHECK(action_scores(one, kP, 4)["block_participation"] == doctest::Approx(1.0 / (kP * kP)));
}

TEST_CASE("lgn scores: every score is scale-free") {
  Rng rng(13);
  const MatrixXd a = randn(rng, kD, kD);
  const ActionScores s1 = action_scores(a, kP, 4);
  for (double c : {3.0, -0.01, 1e6}) {
    CAPTURE(c);
    const ActionScores sc = action_scores(c * a, kP, 4);
    for (std::size_t k = 0; k < s1.values.size(); ++k) {
      CAPTURE(score_names()[k]);
      CHECK(sc.values[k] == doctest::Approx(s1.values[k]).epsilon(1e-9));
    }
  }
  // Nothing is constant: a random matrix is not the identity's scores.
  const ActionScores si = action_scores(MatrixXd::Identity(kD, kD), kP, 4);
  for (std::size_t k = 0; k < s1.values.size(); ++k) {
    CAPTURE(score_names()[k]);
    CHECK(std::abs(s1.values[k] - si.values[k]) > 1e-3);
  }
}

TEST_CASE("lgn scores: the random baseline") {
  const ScoreBaseline b = random_baseline(kP, 4, 500, 1);
  REQUIRE(b.mean.size() == score_names().size());
  REQUIRE(b.std.size() == score_names().size());
  const auto at = [&](const std::vector<double>& v, const std::string& name) {
    const auto& n = score_names();
    return v[std::size_t(std::find(n.begin(), n.end(), name) - n.begin())];
  };
  // The skew part holds d(d-1)/2 of d^2 Gaussian coordinates: (d-1)/(2d) = 0.486.
  CHECK(at(b.mean, "skew_share") == doctest::Approx(0.5).epsilon(0.04));
  CHECK(at(b.mean, "skew_share") == doctest::Approx((kD - 1) / (2.0 * kD)).epsilon(0.01));
  CHECK(at(b.mean, "block_participation") > 0.8);
  CHECK(at(b.mean, "block_participation") < 1.0);
  CHECK(at(b.mean, "circulant_share") == doctest::Approx(1.0 / kD).epsilon(0.1));  // d of d^2 coordinates
  CHECK(at(b.mean, "closure") > 0.9);
  for (std::size_t k = 0; k < b.std.size(); ++k) {
    CAPTURE(score_names()[k]);
    CHECK(b.std[k] > 0);
  }
  // Deterministic: the same seed gives the same numbers, another seed others.
  const ScoreBaseline small = random_baseline(kP, 4, 50, 1), again = random_baseline(kP, 4, 50, 1);
  CHECK(again.mean == small.mean);
  CHECK(again.std == small.std);
  CHECK(random_baseline(kP, 4, 50, 2).mean != small.mean);

  // A circulant stands far out of the baseline on circulant_share.
  Rng rng(17);
  const ActionScores sc = action_scores(circulant(randn(rng, kD, 1).col(0)), kP, 4);
  const std::vector<double> z = z_scores(sc, b);
  CHECK(at(z, "circulant_share") > 5);
  // and a random matrix does not.
  const std::vector<double> zr = z_scores(action_scores(randn(rng, kD, kD), kP, 4), b);
  CHECK(std::abs(at(zr, "circulant_share")) < 4);

  // Random unit matrices against the rot90 permutation: <G, P> / (|G| |P|) is
  // about N(0, 1) / d, so the mean |cos| is about sqrt(2/pi) / d = 0.022.
  const MatrixXd perm = rot90(kP);
  Rng draw(19);
  double sum = 0;
  for (int n = 0; n < 500; ++n) {
    MatrixXd g = randn(draw, kD, kD);
    g /= g.norm();
    sum += abs_cosine(g, perm);
  }
  const double mean_cos = sum / 500;
  CHECK(mean_cos > 0.02);
  CHECK(mean_cos < 0.1);
  CHECK(mean_cos == doctest::Approx(std::sqrt(2 / 3.14159265358979323846) / kD).epsilon(0.1));
}

TEST_CASE("lgn scores: z-scores") {
  ActionScores s;
  s.values = {1.0, 2.0, 3.0};
  ScoreBaseline b;
  b.mean = {0.0, 1.0, 3.0};
  b.std = {0.5, 0.0, 2.0};
  const std::vector<double> z = z_scores(s, b);
  REQUIRE(z.size() == 3);
  CHECK(z[0] == doctest::Approx(2.0));
  CHECK(z[1] == 0);  // std 0
  CHECK(z[2] == doctest::Approx(0.0));
  b.std.pop_back();
  CHECK_THROWS_AS(z_scores(s, b), InputError);
}

TEST_CASE("lgn scores: cosines and templates") {
  Rng rng(23);
  const MatrixXd a = randn(rng, kD, kD);
  CHECK(cosine(a, -2 * a) == doctest::Approx(-1.0));
  CHECK(abs_cosine(a, -2 * a) == doctest::Approx(1.0));
  CHECK(abs_cosine(a, MatrixXd::Zero(kD, kD)) == 0);
  MatrixXd e1 = MatrixXd::Zero(2, 2), e2 = MatrixXd::Zero(2, 2);
  e1(0, 0) = 1;
  e2(0, 1) = 1;
  MatrixXd m(2, 2);
  m << 1, -2, 0, 0;
  CHECK(cosine(m, e2) == doctest::Approx(-2 / std::sqrt(5.0)));
  const auto best = best_template(m, {e1, e2, MatrixXd::Zero(2, 2)});
  CHECK(best.first == 1);
  CHECK(best.second == doctest::Approx(2 / std::sqrt(5.0)));
  CHECK(best_template(m, {}).first == -1);
  CHECK_THROWS_AS(cosine(m, a), InputError);

  // The rotation is found among the rotations by noisy copies of it.
  const MatrixXd r = rot90(kP);
  const std::vector<MatrixXd> rotations = {MatrixXd::Identity(kD, kD), r, r * r, r * r * r};
  const auto found = best_template(r * r * r + 0.1 * randn(rng, kD, kD), rotations);
  CHECK(found.first == 3);
  CHECK(found.second > 0.8);
}

TEST_CASE("lgn scores: inverse residual and orbit norms") {
  Rng rng(29);
  const MatrixXd a = randn(rng, kD, kD) + 10 * MatrixXd::Identity(kD, kD);
  CHECK(inverse_residual(a, a.inverse()) < 1e-12);
  CHECK(inverse_residual(a, MatrixXd::Zero(kD, kD)) == doctest::Approx(1.0));  // ||I|| / sqrt(d)

  // An orthogonal matrix: Givens rotations by random angles in neighbouring planes.
  MatrixXd q = MatrixXd::Identity(kD, kD);
  for (int sweep = 0; sweep < 3; ++sweep)
    for (int k = 0; k + 1 < kD; ++k) {
      const double t = 6.283185307179586 * rng.uniform(), c = std::cos(t), s = std::sin(t);
      const Eigen::RowVectorXd rk = q.row(k), rl = q.row(k + 1);
      q.row(k) = c * rk - s * rl;
      q.row(k + 1) = s * rk + c * rl;
    }
  REQUIRE((q.transpose() * q - MatrixXd::Identity(kD, kD)).norm() < 1e-12);
  const VectorXd w = randn(rng, kD, 1).col(0);
  const std::vector<double> on = orbit_norms(q, w, 5);
  REQUIRE(on.size() == 5);
  for (double n : on) CHECK(n == doctest::Approx(1.0));
  const std::vector<double> scaled = orbit_norms(2 * q, w, 3);
  CHECK(scaled[0] == doctest::Approx(1.0));
  CHECK(scaled[1] == doctest::Approx(2.0));
  CHECK(scaled[2] == doctest::Approx(4.0));
  for (double n : orbit_norms(q, VectorXd::Zero(kD), 3)) CHECK(n == 0);
}
