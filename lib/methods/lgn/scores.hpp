// Structure scores of a learned group action (Linear Group Networks,
// Theodosis, Helwani and Ba 2023). An action A is a d x d matrix acting on
// vec(W) of a p x p filter, vectorised row-major (pixel (r, c) at index
// r * p + c), d = p^2. Each score says how much of some structure A has; the
// random baseline (unit-Frobenius-norm Gaussian matrices) turns them into
// z-scores. All scores are scale-free: A and c A (c != 0) score the same.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace symlearn::lgn {

// Every score of one action, by name, in the order of score_names():
//  skew_share          ||(A - A^T)/2||_F^2 / ||A||_F^2 (1 skew-symmetric, 0 symmetric).
//  triangularity       max(||triu(A)||^2, ||tril(A)||^2) / ||A||^2, both triangles with the diagonal.
//  toeplitz_share      ||P(A)||^2 / ||A||^2, P replacing each diagonal i - j = const by its mean.
//  circulant_share     the same with the wrapped diagonals (i - j) mod d = const.
//  conv2d_share        the same with the classes of equal grid offset (r1 - r2, c1 - c2): 2-D convolutions
//                      (they include the Toeplitz matrices, so conv2d_share >= toeplitz_share).
//  quadrant_coherence  per d/2 x d/2 quadrant (floor/ceil split) |sum a| / sum |a|, weighted by its share of ||A||^2.
//  block_coherence     the same over the p x p blocks (block (i, k): how filter row k feeds output row i).
//  block_participation (sum e)^2 / (sum e^2) / p^2 over the block energies e: 1 even, 1/p^2 one block.
//  sigma_min           smallest singular value / ||A||_F.
//  condition           sigma_max / sigma_min; +infinity when sigma_min is 0.
//  closure             min_s ||A^power - s I||_F / ||A^power||_F: 0 when A^power is a multiple of I.
// A zero matrix scores 0 everywhere except condition (+inf) and closure (1);
// a nilpotent A (A^power = 0) has closure 1: it generates no group.
struct ActionScores {
  std::vector<double> values;
  // The score called `name`; InputError for an unknown name.
  double operator[](const std::string& name) const;
};
const std::vector<std::string>& score_names();

// a: d x d with d = p * p; power: the nominal group order (closure uses A^power).
ActionScores action_scores(const Eigen::MatrixXd& a, int p, int power);

// Mean and sample std of every score over `samples` Gaussian matrices scaled
// to unit Frobenius norm, drawn from Rng(seed) (deterministic). The condition
// number of a Gaussian matrix is heavy-tailed (its mean diverges), so its
// baseline varies strongly with the seed.
struct ScoreBaseline {
  std::vector<double> mean, std;
};
ScoreBaseline random_baseline(int p, int power, int samples, std::uint64_t seed);

// (value - mean) / std per score; 0 where std is 0.
std::vector<double> z_scores(const ActionScores& s, const ScoreBaseline& b);

// The template with the largest abs_cosine to A (the first on ties) and that
// value; {-1, 0} when there are no templates.
std::pair<int, double> best_template(const Eigen::MatrixXd& a, const std::vector<Eigen::MatrixXd>& templates);
double abs_cosine(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);  // |<a,b>| / (|a| |b|), 0 if either is 0
double cosine(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);      // signed

// Rows r whose argmax_j A(r, j) equals argmax_j T(r, j) (signed values, the
// first index on ties), counted over the rows where T has one nonzero
// maximum (a permutation's rows, a rotation's inside rows; not a box mean's
// tied rows).
struct ArgmaxCheck {
  int matched = 0, rows = 0;
};
ArgmaxCheck row_argmax_check(const Eigen::MatrixXd& a, const Eigen::MatrixXd& t);

// ||A Ainv - I||_F / sqrt(d): 0 when a_inv is A's inverse.
double inverse_residual(const Eigen::MatrixXd& a, const Eigen::MatrixXd& a_inv);

// ||A^e w|| / ||w|| for e = 0 .. power - 1 (w = vec of the filter, row-major);
// all 0 when w is 0.
std::vector<double> orbit_norms(const Eigen::MatrixXd& a, const Eigen::VectorXd& w, int power);

}  // namespace symlearn::lgn
