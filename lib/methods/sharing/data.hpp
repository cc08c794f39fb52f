// The splits of sum-of-numbers and gaussian-sharing tasks files (gen-tasks),
// read and checked for the learned-sharing models.
//   sum-of-numbers:   S/x int64 [1,N,L] tokens 1..9, S/y [1,N,1]; /truth/sharing [L,L]
//   gaussian-sharing: S/x [1,N,K];                         /truth/sharing [K,K], /truth/means [K]
#pragma once

#include "io/h5.hpp"
#include "methods/sharing/model.hpp"

#include <Eigen/Dense>

#include <string>

namespace symlearn::sharing {

struct SumSplit {
  std::string name;
  long n = 0;
  int length = 0;
  std::vector<long> tokens;  // row-major N x L
  Eigen::VectorXd y;
  sharing::TokenBatch batch;  // one-hot, built on load
};

// Reads split ("/train", ...) of a sum-of-numbers file; `length` 0 accepts
// the file's own. Tokens must lie in 1..vocab.
SumSplit load_sum_split(const io::Reader& file, const std::string& split, int length = 0, int vocab = 9);
// Concatenation (train + val for the final fit).
SumSplit join(const SumSplit& a, const SumSplit& b);

// N x K samples of a gaussian-sharing split.
Eigen::MatrixXd load_gaussian_split(const io::Reader& file, const std::string& split, int dim = 0);

// The task kind of a tasks file ("sum-of-numbers", ...), "" when unrecorded.
std::string tasks_kind(const io::Reader& file);

// /truth/sharing, checked to be `length` x `length` with one-hot rows.
Eigen::MatrixXd load_true_sharing(const io::Reader& file, int length);

}  // namespace symlearn::sharing
