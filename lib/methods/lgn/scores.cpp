#include "methods/lgn/scores.hpp"

#include "util/error.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace symlearn::lgn {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// Positions in ActionScores::values; keep in step with score_names().
enum Score {
  kSkew,
  kTriangularity,
  kToeplitz,
  kCirculant,
  kConv2d,
  kQuadrantCoherence,
  kBlockCoherence,
  kBlockParticipation,
  kSigmaMin,
  kCondition,
  kClosure,
  kScoreCount
};

void check_action(const MatrixXd& a, int p, int power) {
  if (p < 1) throw InputError("lgn scores: the filter size p must be positive, not " + std::to_string(p));
  if (power < 1) throw InputError("lgn scores: the group order must be positive, not " + std::to_string(power));
  const Index d = Index(p) * p;
  if (a.rows() != d || a.cols() != d)
    throw InputError("lgn scores: the action is " + std::to_string(a.rows()) + " x " + std::to_string(a.cols()) +
                     ", not " + std::to_string(d) + " x " + std::to_string(d) + " for a " + std::to_string(p) +
                     " x " + std::to_string(p) + " filter");
}

void check_same_shape(const MatrixXd& a, const MatrixXd& b, const char* what) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    throw InputError(std::string("lgn scores: ") + what + ": shapes " + std::to_string(a.rows()) + " x " +
                     std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + " x " +
                     std::to_string(b.cols()) + " differ");
}

// Energy of the orthogonal projection onto the matrices that are constant on
// each class of entries: replacing a class by its mean keeps sum^2 / size of
// it. `sums` and `sizes` are indexed by class.
double class_mean_energy(const std::vector<double>& sums, const std::vector<double>& sizes) {
  double e = 0;
  for (std::size_t k = 0; k < sums.size(); ++k)
    if (sizes[k] > 0) e += sums[k] * sums[k] / sizes[k];
  return e;
}

double toeplitz_energy(const MatrixXd& a) {
  const Index d = a.rows();
  std::vector<double> sums(2 * d - 1, 0.0), sizes(2 * d - 1, 0.0);
  for (Index j = 0; j < d; ++j)
    for (Index i = 0; i < d; ++i) sums[i - j + d - 1] += a(i, j);
  for (Index k = 0; k < 2 * d - 1; ++k) sizes[k] = double(d - std::abs(k - (d - 1)));
  return class_mean_energy(sums, sizes);
}

double circulant_energy(const MatrixXd& a) {
  const Index d = a.rows();
  std::vector<double> sums(d, 0.0), sizes(d, double(d));
  for (Index j = 0; j < d; ++j)
    for (Index i = 0; i < d; ++i) sums[(i - j + d) % d] += a(i, j);
  return class_mean_energy(sums, sizes);
}

// Classes of equal grid offset (r1 - r2, c1 - c2), each offset shifted by
// p - 1 into [0, 2p - 2]; an offset (dr, dc) occurs (p - |dr|)(p - |dc|) times.
double conv2d_energy(const MatrixXd& a, int p) {
  const int w = 2 * p - 1;
  std::vector<double> sums(std::size_t(w) * w, 0.0), sizes(std::size_t(w) * w, 0.0);
  for (int r2 = 0; r2 < p; ++r2)
    for (int c2 = 0; c2 < p; ++c2)
      for (int r1 = 0; r1 < p; ++r1)
        for (int c1 = 0; c1 < p; ++c1) sums[(r1 - r2 + p - 1) * w + (c1 - c2 + p - 1)] += a(r1 * p + c1, r2 * p + c2);
  for (int dr = 0; dr < w; ++dr)
    for (int dc = 0; dc < w; ++dc) sizes[dr * w + dc] = double(p - std::abs(dr - (p - 1))) * (p - std::abs(dc - (p - 1)));
  return class_mean_energy(sums, sizes);
}

// Accumulates sign coherence |sum a| / sum |a| of blocks, each weighted by its energy.
struct CoherenceSum {
  double weighted = 0, energy = 0;
  template <class Block>
  void add(const Block& b) {
    const double l1 = b.cwiseAbs().sum();
    const double e = b.squaredNorm();
    if (l1 > 0) weighted += e * std::abs(b.sum()) / l1;
    energy += e;
  }
  double value() const { return energy > 0 ? weighted / energy : 0.0; }
};

double quadrant_coherence(const MatrixXd& a) {
  const Index d = a.rows(), h = d / 2;
  CoherenceSum s;
  s.add(a.block(0, 0, h, h));
  s.add(a.block(0, h, h, d - h));
  s.add(a.block(h, 0, d - h, h));
  s.add(a.block(h, h, d - h, d - h));
  return s.value();
}

double block_coherence(const MatrixXd& a, int p) {
  CoherenceSum s;
  for (int k = 0; k < p; ++k)
    for (int i = 0; i < p; ++i) s.add(a.block(i * p, k * p, p, p));
  return s.value();
}

// Participation ratio of the block energies over the number of blocks.
double block_participation(const MatrixXd& a, int p) {
  double sum = 0, sum_sq = 0;
  for (int k = 0; k < p; ++k)
    for (int i = 0; i < p; ++i) {
      const double e = a.block(i * p, k * p, p, p).squaredNorm();
      sum += e;
      sum_sq += e * e;
    }
  return sum_sq > 0 ? sum * sum / sum_sq / (double(p) * p) : 0.0;
}

// A^power up to scale: renormalised after every product so that neither
// overflow nor underflow can happen for large powers. Zero when A^power is.
MatrixXd power_up_to_scale(const MatrixXd& a, int power) {
  MatrixXd m = a;
  for (int e = 1; e < power; ++e) {
    m = m * a;
    const double n = m.norm();
    if (n == 0) break;
    m /= n;
  }
  return m;
}

double closure(const MatrixXd& a, int power) {
  const MatrixXd m = power_up_to_scale(a, power);
  const double n2 = m.squaredNorm();
  if (n2 == 0) return 1.0;  // nilpotent: no group
  const double tr = m.trace();
  return std::sqrt(std::max(0.0, n2 - tr * tr / double(m.rows()))) / std::sqrt(n2);
}

// Index of the largest entry of row r, the first on ties.
Index row_argmax(const MatrixXd& m, Index r) {
  Index best = 0;
  for (Index j = 1; j < m.cols(); ++j)
    if (m(r, j) > m(r, best)) best = j;
  return best;
}

}  // namespace

const std::vector<std::string>& score_names() {
  static const std::vector<std::string> names = {
      "skew_share",      "triangularity",       "toeplitz_share", "circulant_share", "conv2d_share", "quadrant_coherence",
      "block_coherence", "block_participation", "sigma_min",      "condition",       "closure"};
  return names;
}

double ActionScores::operator[](const std::string& name) const {
  const auto& names = score_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw InputError("lgn scores: no score named '" + name + "'");
  const std::size_t k = std::size_t(it - names.begin());
  if (k >= values.size()) throw InputError("lgn scores: score '" + name + "' was not computed");
  return values[k];
}

ActionScores action_scores(const MatrixXd& a, int p, int power) {
  check_action(a, p, power);
  ActionScores s;
  s.values.assign(kScoreCount, 0.0);
  const double norm = a.norm();
  if (norm == 0) {
    s.values[kCondition] = std::numeric_limits<double>::infinity();
    s.values[kClosure] = 1.0;
    return s;
  }
  // Work on the unit-norm matrix: every share is then an energy, and the
  // scores cannot depend on the scale of A.
  const MatrixXd b = a / norm;

  s.values[kSkew] = (0.5 * (b - b.transpose())).squaredNorm();
  const double upper = b.triangularView<Eigen::Upper>().toDenseMatrix().squaredNorm();
  const double lower = b.triangularView<Eigen::Lower>().toDenseMatrix().squaredNorm();
  s.values[kTriangularity] = std::max(upper, lower);
  s.values[kToeplitz] = toeplitz_energy(b);
  s.values[kCirculant] = circulant_energy(b);
  s.values[kConv2d] = conv2d_energy(b, p);
  s.values[kQuadrantCoherence] = quadrant_coherence(b);
  s.values[kBlockCoherence] = block_coherence(b, p);
  s.values[kBlockParticipation] = block_participation(b, p);

  // Square, so no QR preconditioner is needed (and none gets instantiated).
  const VectorXd sv = Eigen::JacobiSVD<MatrixXd, Eigen::NoQRPreconditioner>(b).singularValues();  // descending
  const double smin = sv[sv.size() - 1], smax = sv[0];
  s.values[kSigmaMin] = smin;  // ||b||_F = 1
  s.values[kCondition] = smin > 0 ? smax / smin : std::numeric_limits<double>::infinity();
  s.values[kClosure] = closure(b, power);
  return s;
}

ScoreBaseline random_baseline(int p, int power, int samples, std::uint64_t seed) {
  if (samples < 1) throw InputError("lgn scores: the random baseline needs at least one sample");
  if (p < 1 || power < 1) check_action(MatrixXd(), p, power);  // throws the message
  const Index d = Index(p) * p;
  Rng rng(seed);
  std::vector<std::vector<double>> values(kScoreCount);
  MatrixXd g(d, d);
  for (int n = 0; n < samples; ++n) {
    for (Index k = 0; k < g.size(); ++k) g.data()[k] = rng.normal();
    g /= g.norm();
    const ActionScores s = action_scores(g, p, power);
    for (int k = 0; k < kScoreCount; ++k) values[k].push_back(s.values[k]);
  }
  ScoreBaseline b;
  b.mean.assign(kScoreCount, 0.0);
  b.std.assign(kScoreCount, 0.0);
  for (int k = 0; k < kScoreCount; ++k) {
    double sum = 0;
    for (double v : values[k]) sum += v;
    const double mean = sum / samples;
    double ss = 0;
    for (double v : values[k]) ss += (v - mean) * (v - mean);
    b.mean[k] = mean;
    b.std[k] = samples > 1 ? std::sqrt(ss / (samples - 1)) : 0.0;
  }
  return b;
}

std::vector<double> z_scores(const ActionScores& s, const ScoreBaseline& b) {
  if (s.values.size() != b.mean.size() || s.values.size() != b.std.size())
    throw InputError("lgn scores: the scores and the baseline have different lengths");
  std::vector<double> z(s.values.size(), 0.0);
  for (std::size_t k = 0; k < z.size(); ++k)
    if (b.std[k] != 0) z[k] = (s.values[k] - b.mean[k]) / b.std[k];
  return z;
}

double cosine(const MatrixXd& a, const MatrixXd& b) {
  check_same_shape(a, b, "cosine");
  const double na = a.norm(), nb = b.norm();
  if (na == 0 || nb == 0) return 0.0;
  return a.cwiseProduct(b).sum() / (na * nb);
}

double abs_cosine(const MatrixXd& a, const MatrixXd& b) { return std::abs(cosine(a, b)); }

std::pair<int, double> best_template(const MatrixXd& a, const std::vector<MatrixXd>& templates) {
  std::pair<int, double> best{-1, 0.0};
  for (std::size_t k = 0; k < templates.size(); ++k) {
    const double c = abs_cosine(a, templates[k]);
    if (best.first < 0 || c > best.second) best = {int(k), c};
  }
  return best;
}

ArgmaxCheck row_argmax_check(const MatrixXd& a, const MatrixXd& t) {
  check_same_shape(a, t, "row argmax check");
  ArgmaxCheck c;
  if (a.cols() == 0) return c;
  for (Index r = 0; r < t.rows(); ++r) {
    // Only rows with one clear maximum say where a pixel comes from (a box mean's rows tie).
    const Index j = row_argmax(t, r);
    const double top = t(r, j);
    bool unique = top != 0;
    for (Index k = 0; k < t.cols() && unique; ++k)
      if (k != j && t(r, k) >= top - 1e-12 * std::abs(top)) unique = false;
    if (!unique) continue;
    ++c.rows;
    if (row_argmax(a, r) == row_argmax(t, r)) ++c.matched;
  }
  return c;
}

double inverse_residual(const MatrixXd& a, const MatrixXd& a_inv) {
  if (a.rows() != a.cols() || a_inv.rows() != a.cols() || a_inv.cols() != a.rows())
    throw InputError("lgn scores: inverse residual needs a square A and an inverse of the same shape");
  const Index d = a.rows();
  if (d == 0) return 0.0;
  return (a * a_inv - MatrixXd::Identity(d, d)).norm() / std::sqrt(double(d));
}

std::vector<double> orbit_norms(const MatrixXd& a, const VectorXd& w, int power) {
  if (a.rows() != a.cols() || a.cols() != w.size())
    throw InputError("lgn scores: orbit norms need a square A matching the filter's length " +
                     std::to_string(w.size()));
  if (power < 1) throw InputError("lgn scores: the group order must be positive, not " + std::to_string(power));
  std::vector<double> norms(std::size_t(power), 0.0);
  const double wn = w.norm();
  if (wn == 0) return norms;
  VectorXd v = w;
  for (int e = 0; e < power; ++e) {
    norms[e] = v.norm() / wn;
    if (e + 1 < power) v = a * v;
  }
  return norms;
}

}  // namespace symlearn::lgn
