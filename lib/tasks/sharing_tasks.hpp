// Single-dataset problems with a known ground-truth parameter sharing, as in
// "Equivariance Discovery by Learned Parameter-Sharing" (Yeh et al., AISTATS
// 2022). Both write T = 1 task per split (design.md section 3) and the true
// sharing A_gt under /truth/sharing: a square matrix whose rows are one-hot,
// row p having its 1 in the column of the group that parameter p belongs to
// (columns beyond the rank are all zero).
//
// sum-of-numbers: L tokens x_p, each a digit 1..9 drawn uniformly; the label
//   is y = sum_p w_p x_p with w = A_gt v:
//   rank 1: every position has weight 1 (A_gt[p, 0] = 1, v = [1]);
//   rank 2: even positions (p = 0, 2, ..., zero-based) weight w_scale, odd
//           positions weight 1 (A_gt[p, p % 2] = 1, v = [w_scale, 1]).
//   Labels of /train, /val and /hyper get uniform noise in [-a, a]; /test
//   labels are exact.
//
// gaussian-sharing: vectors x ~ N(theta, sigma^2 I_K) with theta = A_gt psi,
//   group means psi_j = 3 (j + 1) for j < rank, and the coordinates assigned
//   to groups at random with every group non-empty. Unsupervised: no y.
//
// Randomness: each split draws from its own Rng stream, so the size of one
// split never changes another's data; the same seed gives the same file.
#pragma once

#include "io/h5.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::tasks {

struct SumOfNumbersSpec {
  int length = 10;       // L, tokens per sequence
  int rank = 1;          // 1 or 2
  double w_scale = -1.0; // rank 2: the weight of even positions
  double noise = 0.5;    // a: label noise uniform in [-a, a] (not on /test)
  long train = 100;
  long val = 150;
  long hyper = 250;
  long test = 100000;
  std::uint64_t seed = 0;

  // Throws InputError naming the bad option and its allowed range.
  void validate() const;
  // Every option that determines the file's contents.
  nlohmann::json config() const;
};

// The true sharing A_gt (L x L, rows one-hot) and weights w (L).
Eigen::MatrixXd sum_of_numbers_sharing(const SumOfNumbersSpec& spec);
Eigen::VectorXd sum_of_numbers_weights(const SumOfNumbersSpec& spec);

// "one" ... "nine" for a digit 1..9.
const std::string& digit_word(std::int64_t digit);

// Writes /train, /val, /hyper, /test (x int64 [1,N,L], y float64 [1,N,1],
// words string [1,N,L]) and /truth (sharing float64 [L,L], weights float64 [L]),
// and the root attribute kind = "sum-of-numbers".
void write_sum_of_numbers(const SumOfNumbersSpec& spec, io::Writer& out);

struct GaussianSharingSpec {
  int dim = 10;      // K
  int rank = 3;      // number of groups, 1 <= rank <= K
  double sigma = 1.0;
  long train = 20;
  long val = 20;
  long test = 1000;
  std::uint64_t seed = 0;

  void validate() const;
  nlohmann::json config() const;
};

// The group of each coordinate (K values in [0, rank), every group used),
// drawn from the seed's own stream.
std::vector<int> gaussian_groups(const GaussianSharingSpec& spec);
// psi (K): psi_j = 3 (j + 1) for j < rank, zero beyond.
Eigen::VectorXd gaussian_psi(const GaussianSharingSpec& spec);

// Writes /train, /val, /test (x float64 [1,N,K]) and /truth (sharing float64
// [K,K], psi float64 [K], means float64 [K]), and kind = "gaussian-sharing".
void write_gaussian_sharing(const GaussianSharingSpec& spec, io::Writer& out);

}  // namespace symlearn::tasks
