// The numbers inspect-symmetry reports, as pure functions of matrices:
// general statistics of any parameter, structure scores of square matrices
// (group actions, generators), closure of a set of generators under
// commutators, and for a weight-sharing matrix U (vec(W) = U v, MSR) its
// map onto W, its locality and the weight tying it implies.
#pragma once

#include <Eigen/Dense>

#include <array>
#include <utility>
#include <vector>

namespace symlearn::analysis {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// ---- any matrix ------------------------------------------------------------

// Histogram of |a| on a log axis: bins [edges[i], edges[i+1]) of
// 1/bins_per_decade decade each, from the decade holding max |a| down
// `decades` decades; `below` counts smaller entries, exact zeros included.
struct LogHistogram {
  std::vector<double> edges;
  std::vector<long> counts;
  long below = 0;
};
LogHistogram abs_log_histogram(const MatrixXd& a, int bins_per_decade = 2, int decades = 7);

constexpr std::array<double, 3> kSparsityLevels = {1e-6, 1e-3, 1e-2};

struct MatrixStats {
  long rows = 0, cols = 0;
  double frobenius = 0, max_abs = 0, mean_abs = 0;
  // Share of entries with |a| < level * max |a|, for each of kSparsityLevels.
  std::array<double, 3> sparsity{};
  LogHistogram histogram;
  bool has_svd = false;  // false when min(rows, cols) > the SVD limit
  VectorXd singular_values;
  double effective_rank = 0;  // see effective_rank()
  long numerical_rank = 0;    // singular values > 1e-3 * the largest
};
// Singular values are computed when min(rows, cols) <= svd_limit.
MatrixStats matrix_stats(const MatrixXd& a, long svd_limit = 2048);

// exp of the Shannon entropy of the normalised singular values (Roy and
// Vetterli 2007): k for k equal singular values, 1 for rank one, 0 for zero.
double effective_rank(const VectorXd& singular_values);

// ---- square matrices --------------------------------------------------------

// Share of ||A||_F^2 in the nearest Toeplitz matrix (each diagonal replaced
// by its mean): 1 for a Toeplitz matrix, about 2/n for a random one.
double toeplitz_score(const MatrixXd& a);

// Share of ||A||_F^2 on the diagonal of F A F^-1, F the unitary DFT matrix:
// 1 exactly when A is circulant (the DFT diagonalises circulants), about 1/n
// for a random matrix. Computed in O(n^2): diag(F A F^-1)_k = (1/n) sum_d
// w^(kd) c_d with c_d the sum of A's wrapped diagonal d, so by Parseval the
// diagonal energy is sum_d c_d^2 / n.
double circulant_score(const MatrixXd& a);

// ||A^p - I||_F / ||I||_F: 0 when A generates a cyclic group of order dividing p.
double cyclic_residual(const MatrixXd& a, int p);

struct SquareScores {
  double symmetric_share = 0, skew_share = 0;  // ||sym(A)||^2 / ||A||^2 and ||skew(A)||^2 / ||A||^2 (they sum to 1)
  double toeplitz = 0, circulant = 0;
  bool has_svd = false;
  double sigma_min = 0, condition = 0;  // condition = sigma_max / sigma_min (inf when singular)
};
// `singular_values` (descending) may be empty when they were not computed.
SquareScores square_scores(const MatrixXd& a, const VectorXd& singular_values);

// ---- generator sets -----------------------------------------------------------

// How closed the commutators [L_i, L_j] are within span{L_k}: for each pair
// i < j, the relative residual ||[L_i, L_j] - P [L_i, L_j]||_F / ||[L_i, L_j]||_F
// of its least-squares projection P onto the span (0 for commuting pairs).
struct Closure {
  std::vector<std::pair<int, int>> pairs;
  std::vector<double> commutator_norm, residual;
  double max_residual = 0, mean_residual = 0;
  long span_rank = 0;  // dimension of span{L_k}
};
Closure commutator_closure(const std::vector<MatrixXd>& generators);

// ---- weight sharing: vec(W) = U v, W m x n, vec column-major ------------------

// The m x n map of max_k |U[i + j m, k]|: where W can be non-zero, and how strongly.
MatrixXd sharing_map(const MatrixXd& u, int m, int n);

// Whether W[i, j] lies on the locally connected band of kernel s: j - i in [0, s).
inline bool on_band(long i, long j, int kernel) { return j - i >= 0 && j - i < kernel; }

// Share of U's mass in the rows of band entries: of sum(U^2) (the default,
// what inspect-symmetry's verdict uses) or, with squared = false, of sum|U|
// (the L1 share prox-regularize and the sparse-MSR table report).
double band_mass(const MatrixXd& u, int m, int n, int kernel, bool squared = true);

// Rows of U grouped by direction: rows with norm below zero_fraction times the
// largest row norm are near zero (label -1); the others are taken in order of
// decreasing norm, and each joins the first group whose leading row it
// matches with |cos| > cos_threshold (so u and -u tie together), else leads a
// new group. Labels count from 0 in order of creation.
struct RowGroups {
  std::vector<int> label;
  int groups = 0;
  long near_zero = 0;
};
RowGroups group_rows(const MatrixXd& u, double cos_threshold = 0.99, double zero_fraction = 0.1);

// Partition distance between two labellings of the same elements: the least
// number of elements to remove so the partitions agree, i.e. N minus the
// maximum-weight matching of their contingency table (Hungarian algorithm).
long partition_distance(const std::vector<int>& a, const std::vector<int>& b);

// Maximum total weight of a matching between rows and columns of a
// non-negative weight matrix (each row and column used at most once).
double max_weight_matching(const MatrixXd& weights);

// Share of span(truth) inside span(u): ||Q_t^T Q_u||_F^2 / rank(truth), Q_*
// orthonormal bases; 1 when every true weight pattern is expressible by U.
double span_captured(const MatrixXd& u, const MatrixXd& truth);

}  // namespace symlearn::analysis
