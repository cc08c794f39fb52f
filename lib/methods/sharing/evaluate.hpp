// What `eval` reports for a learned-sharing model (Yeh et al. 2022):
// sum-of-numbers — MAE, MSE and accuracy (the rounded prediction equals the
// label) on a split; gaussian-sharing — the MSE of the estimated means against
// /truth/means and the oracle's (fit with the true sharing on the same /train),
// and their difference, the paper's MSE gap. Both: the partition distance
// between the learned sharing (row argmax) and /truth/sharing.
#pragma once

#include "io/h5.hpp"
#include "methods/sharing/train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::sharing {

struct SharingEval {
  std::string kind, task, split;
  long examples = 0;
  double mae = 0, mse = 0, accuracy = 0;        // sum-of-numbers
  double oracle_mse = 0, mse_gap = 0;           // gaussian-sharing (mse: of the means)
  int groups = 0;                               // distinct groups in the learned sharing
  bool compared = false;                        // /truth/sharing present
  long partition_distance = 0;
  int true_groups = 0;

  nlohmann::json to_json() const;
  std::string line(const std::string& tasks_name) const;  // one human-readable line
};

// Checks that the tasks file holds the task the model was trained for.
SharingEval evaluate_sharing(const SharingModel& model, const io::Reader& tasks, const std::string& split);

}  // namespace symlearn::sharing
