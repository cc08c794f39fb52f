#include "analysis/symmetry_scores.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace symlearn::analysis {

// ---- any matrix ------------------------------------------------------------

LogHistogram abs_log_histogram(const MatrixXd& a, int bins_per_decade, int decades) {
  LogHistogram h;
  const double top_value = a.size() ? a.cwiseAbs().maxCoeff() : 0.0;
  if (!(top_value > 0)) {
    h.below = static_cast<long>(a.size());
    return h;
  }
  // Edges are powers of 10^(1/B) so that decades fall on edges exactly.
  const int top = static_cast<int>(std::floor(std::log10(top_value))) + 1;
  const int nbins = bins_per_decade * decades;
  for (int i = 0; i <= nbins; ++i)
    h.edges.push_back(std::pow(10.0, top - decades + static_cast<double>(i) / bins_per_decade));
  h.counts.assign(nbins, 0);
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const double v = std::abs(a.data()[k]);
    if (v < h.edges.front()) {
      ++h.below;
      continue;
    }
    auto it = std::upper_bound(h.edges.begin(), h.edges.end(), v);
    const long bin = std::min<long>(nbins - 1, static_cast<long>(it - h.edges.begin()) - 1);
    ++h.counts[bin];
  }
  return h;
}

double effective_rank(const VectorXd& sv) {
  const double total = sv.cwiseAbs().sum();
  if (!(total > 0)) return 0.0;
  double entropy = 0;
  for (Eigen::Index i = 0; i < sv.size(); ++i) {
    const double p = std::abs(sv[i]) / total;
    if (p > 0) entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

MatrixStats matrix_stats(const MatrixXd& a, long svd_limit) {
  MatrixStats s;
  s.rows = a.rows();
  s.cols = a.cols();
  if (a.size() == 0) return s;
  s.frobenius = a.norm();
  s.max_abs = a.cwiseAbs().maxCoeff();
  s.mean_abs = a.cwiseAbs().mean();
  for (std::size_t l = 0; l < kSparsityLevels.size(); ++l) {
    const double cut = kSparsityLevels[l] * s.max_abs;
    long below = 0;
    for (Eigen::Index k = 0; k < a.size(); ++k) below += std::abs(a.data()[k]) < cut;
    s.sparsity[l] = static_cast<double>(below) / static_cast<double>(a.size());
  }
  s.histogram = abs_log_histogram(a);
  if (std::min(a.rows(), a.cols()) <= svd_limit) {
    s.has_svd = true;
    s.singular_values = Eigen::BDCSVD<MatrixXd>(a).singularValues();
    s.effective_rank = effective_rank(s.singular_values);
    const double cut = 1e-3 * (s.singular_values.size() ? s.singular_values[0] : 0.0);
    s.numerical_rank = (s.singular_values.array() > cut).count();
  }
  return s;
}

// ---- square matrices --------------------------------------------------------

double toeplitz_score(const MatrixXd& a) {
  const Eigen::Index n = a.rows();
  const double total = a.squaredNorm();
  if (!(total > 0) || n != a.cols()) return 0.0;
  // The nearest Toeplitz matrix (in Frobenius norm) has each diagonal's mean.
  VectorXd sum = VectorXd::Zero(2 * n - 1);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) sum[j - i + n - 1] += a(i, j);
  double kept = 0;
  for (Eigen::Index d = 0; d < 2 * n - 1; ++d) kept += sum[d] * sum[d] / static_cast<double>(n - std::abs(d - (n - 1)));
  return kept / total;
}

double circulant_score(const MatrixXd& a) {
  const Eigen::Index n = a.rows();
  const double total = a.squaredNorm();
  if (!(total > 0) || n != a.cols()) return 0.0;
  VectorXd c = VectorXd::Zero(n);  // c_d = sum of A[i, j] with i - j = d (mod n)
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) c[((i - j) % n + n) % n] += a(i, j);
  return c.squaredNorm() / static_cast<double>(n) / total;
}

double cyclic_residual(const MatrixXd& a, int p) {
  if (a.rows() != a.cols() || a.rows() == 0) throw std::invalid_argument("cyclic_residual: not a square matrix");
  if (p < 1) throw std::invalid_argument("cyclic_residual: p must be >= 1");
  // Binary powering: O(log p) products.
  MatrixXd power = MatrixXd::Identity(a.rows(), a.cols()), base = a;
  for (int e = p; e > 0; e >>= 1) {
    if (e & 1) power = power * base;
    if (e > 1) base = base * base;
  }
  power -= MatrixXd::Identity(a.rows(), a.cols());
  return power.norm() / std::sqrt(static_cast<double>(a.rows()));
}

SquareScores square_scores(const MatrixXd& a, const VectorXd& sv) {
  SquareScores s;
  const double total = a.squaredNorm();
  if (total > 0) {
    s.symmetric_share = (0.5 * (a + a.transpose())).squaredNorm() / total;
    s.skew_share = (0.5 * (a - a.transpose())).squaredNorm() / total;
  }
  s.toeplitz = toeplitz_score(a);
  s.circulant = circulant_score(a);
  if (sv.size() == a.rows() && sv.size() > 0) {
    s.has_svd = true;
    s.sigma_min = sv[sv.size() - 1];
    s.condition = s.sigma_min > 0 ? sv[0] / s.sigma_min : std::numeric_limits<double>::infinity();
  }
  return s;
}

// ---- generator sets -----------------------------------------------------------

Closure commutator_closure(const std::vector<MatrixXd>& gens) {
  Closure out;
  const std::size_t k = gens.size();
  if (k == 0) return out;
  const Eigen::Index d = gens[0].rows();
  for (const auto& g : gens)
    if (g.rows() != d || g.cols() != d) throw std::invalid_argument("commutator_closure: generators differ in shape");
  MatrixXd span(d * d, static_cast<Eigen::Index>(k));
  for (std::size_t i = 0; i < k; ++i) span.col(i) = Eigen::Map<const VectorXd>(gens[i].data(), d * d);
  Eigen::ColPivHouseholderQR<MatrixXd> qr(span);
  qr.setThreshold(1e-10);
  out.span_rank = qr.rank();
  // Q's first columns only: the full Q would be (d^2 x d^2).
  const MatrixXd q = qr.householderQ() * MatrixXd::Identity(d * d, out.span_rank);
  double sum = 0;
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i + 1; j < k; ++j) {
      const MatrixXd c = gens[i] * gens[j] - gens[j] * gens[i];
      const Eigen::Map<const VectorXd> cv(c.data(), d * d);
      const double norm = cv.norm();
      const double scale = gens[i].norm() * gens[j].norm();
      double residual = 0;
      if (norm > 1e-12 * scale) residual = (cv - q * (q.transpose() * cv)).norm() / norm;
      out.pairs.emplace_back(static_cast<int>(i), static_cast<int>(j));
      out.commutator_norm.push_back(norm);
      out.residual.push_back(residual);
      out.max_residual = std::max(out.max_residual, residual);
      sum += residual;
    }
  if (!out.residual.empty()) out.mean_residual = sum / static_cast<double>(out.residual.size());
  return out;
}

// ---- weight sharing -------------------------------------------------------------

MatrixXd sharing_map(const MatrixXd& u, int m, int n) {
  if (u.rows() != static_cast<Eigen::Index>(m) * n) throw std::invalid_argument("sharing_map: U has not m*n rows");
  MatrixXd map(m, n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) map(i, j) = u.cols() ? u.row(i + static_cast<Eigen::Index>(j) * m).cwiseAbs().maxCoeff() : 0.0;
  return map;
}

double band_mass(const MatrixXd& u, int m, int n, int kernel, bool squared) {
  if (u.rows() != static_cast<Eigen::Index>(m) * n) throw std::invalid_argument("band_mass: U has not m*n rows");
  double on = 0, total = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      const auto row = u.row(i + static_cast<Eigen::Index>(j) * m);
      const double e = squared ? row.squaredNorm() : row.cwiseAbs().sum();
      total += e;
      if (on_band(i, j, kernel)) on += e;
    }
  return total > 0 ? on / total : 0.0;
}

RowGroups group_rows(const MatrixXd& u, double cos_threshold, double zero_fraction) {
  RowGroups g;
  const Eigen::Index rows = u.rows();
  g.label.assign(rows, -1);
  const VectorXd norms = u.rowwise().norm();
  const double largest = rows ? norms.maxCoeff() : 0.0;
  std::vector<Eigen::Index> order;
  for (Eigen::Index r = 0; r < rows; ++r) {
    if (largest > 0 && norms[r] >= zero_fraction * largest)
      order.push_back(r);
    else
      ++g.near_zero;
  }
  // Strongest rows lead: their directions are the least noisy.
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return norms[a] > norms[b]; });
  std::vector<VectorXd> leaders;
  for (Eigen::Index r : order) {
    const VectorXd dir = u.row(r).transpose() / norms[r];
    int found = -1;
    for (std::size_t l = 0; l < leaders.size() && found < 0; ++l)
      if (std::abs(leaders[l].dot(dir)) > cos_threshold) found = static_cast<int>(l);
    if (found < 0) {
      found = static_cast<int>(leaders.size());
      leaders.push_back(dir);
    }
    g.label[r] = found;
  }
  g.groups = static_cast<int>(leaders.size());
  return g;
}

double max_weight_matching(const MatrixXd& weights) {
  // Hungarian algorithm (shortest augmenting paths with potentials) on costs
  // -w, for n rows <= m columns; a wider side is handled by transposing.
  const MatrixXd w = weights.rows() <= weights.cols() ? weights : MatrixXd(weights.transpose());
  const Eigen::Index n = w.rows(), m = w.cols();
  if (n == 0) return 0.0;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> pu(n + 1, 0.0), pv(m + 1, 0.0);
  std::vector<Eigen::Index> match(m + 1, 0), way(m + 1, 0);  // match[j]: row (1-based) on column j
  for (Eigen::Index i = 1; i <= n; ++i) {
    match[0] = i;
    Eigen::Index j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, 0);
    do {
      used[j0] = 1;
      const Eigen::Index i0 = match[j0];
      double delta = inf;
      Eigen::Index j1 = 0;
      for (Eigen::Index j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = -w(i0 - 1, j - 1) - pu[i0] - pv[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (Eigen::Index j = 0; j <= m; ++j) {
        if (used[j]) {
          pu[match[j]] += delta;
          pv[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] != 0);
    do {
      const Eigen::Index j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  double total = 0;
  for (Eigen::Index j = 1; j <= m; ++j)
    if (match[j] > 0) total += w(match[j] - 1, j - 1);
  return total;
}

long partition_distance(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("partition_distance: labellings differ in length");
  std::map<int, Eigen::Index> ra, rb;
  for (int x : a) ra.emplace(x, static_cast<Eigen::Index>(ra.size()));
  for (int x : b) rb.emplace(x, static_cast<Eigen::Index>(rb.size()));
  MatrixXd table = MatrixXd::Zero(static_cast<Eigen::Index>(ra.size()), static_cast<Eigen::Index>(rb.size()));
  for (std::size_t k = 0; k < a.size(); ++k) table(ra[a[k]], rb[b[k]]) += 1;
  return static_cast<long>(a.size()) - std::lround(max_weight_matching(table));
}

namespace {
MatrixXd orthonormal_basis(const MatrixXd& a) {
  Eigen::ColPivHouseholderQR<MatrixXd> qr(a);
  qr.setThreshold(1e-10);
  return qr.householderQ() * MatrixXd::Identity(a.rows(), qr.rank());
}
}  // namespace

double span_captured(const MatrixXd& u, const MatrixXd& truth) {
  if (u.rows() != truth.rows()) throw std::invalid_argument("span_captured: row counts differ");
  const MatrixXd qt = orthonormal_basis(truth), qu = orthonormal_basis(u);
  if (qt.cols() == 0) return 0.0;
  return (qt.transpose() * qu).squaredNorm() / static_cast<double>(qt.cols());
}

}  // namespace symlearn::analysis
