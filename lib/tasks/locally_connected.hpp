// Synthetic 1-D regression tasks made by locally connected layers, as in
// "Meta-Learning Symmetries by Reparameterization" (Zhou, Knowles, Finn, 2021).
//
// x in R^n ~ N(0, I); y in R^m, m = n - s + 1, y_j = sum_t F[j,t] x[j+t].
// rank 1: one filter f ~ N(0, I_s) per task, F[j,:] = f at every position
//         (a convolution);
// rank r: a connectivity C = row-softmax(randn(m, r)) drawn once per dataset;
//         per task B ~ randn(r, s) and F = C B.
// Rank 1 is the case C = ones(m, 1), so one formula covers both:
// vec(W) = U_true vec(B), with U_true[(j, j+t), (a, t)] = C[j, a].
//
// permute_inputs (a control with no shared structure): per task a random
// permutation P of the n input positions is drawn and the stored inputs are
// x[k] = x_orig[perm[k]], with y computed from x_orig; /split/permutation
// records perm. W_task = W P^T then differs from task to task, so no fixed
// weight sharing fits every task.
#pragma once

#include "io/h5.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>

namespace symlearn::tasks {

struct LocallyConnectedSpec {
  int rank = 1;
  int kernel = 3;
  int input_dim = 70;
  long tasks = 10000;
  int samples = 20;
  double test_fraction = 0.2;
  double noise = 0.0;
  bool permute_inputs = false;
  std::uint64_t seed = 0;

  int output_dim() const { return input_dim - kernel + 1; }
  long test_tasks() const;
  long train_tasks() const { return tasks - test_tasks(); }
  // Throws InputError naming the bad option.
  void validate() const;
  // Every option that determines the file's contents (not --threads: the
  // output does not depend on it).
  nlohmann::json config() const;
};

// The m x n weight matrix of a locally connected layer with filters F (m x s):
// W[j, j + t] = F[j, t].
Eigen::MatrixXd lc_weights(const Eigen::MatrixXd& filters, int input_dim);

// The true symmetry matrix U ((m*n) x (r*s)) with vec(W) = U vec(B) for
// F = C B, C the m x r connectivity; column-major vec throughout.
Eigen::MatrixXd lc_symmetry(const Eigen::MatrixXd& connectivity, int input_dim, int kernel);

// The dataset's connectivity C (m x r); ones(m, 1) for rank 1.
Eigen::MatrixXd lc_connectivity(const LocallyConnectedSpec& spec);

// Writes /train, /test (x [T,N,n], y [T,N,m], w [T,m,s], b [T,r,s], and with
// permute_inputs permutation [T,n]) and /truth
// (connectivity [m,r], symmetry [m*n, r*s]) into `out`. Tasks are generated in
// blocks on `threads` threads; `progress` is told how many tasks are done.
void write_locally_connected(const LocallyConnectedSpec& spec, io::Writer& out, int threads,
                             const std::function<void(long)>& progress = {});

}  // namespace symlearn::tasks
