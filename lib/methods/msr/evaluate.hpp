// Meta-test evaluation: adapt to each held-out task on its support set with
// the model's own inner loop, measure the query MSE.
#pragma once

#include "analysis/stats.hpp"
#include "methods/msr/meta_train.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::msr {

struct EvalOptions {
  long limit = 0;          // 0: every task of the split; else a seeded sample of this many
  int support = 0, query = 0;  // 0: the training sizes (query clipped to what the tasks hold)
  std::uint64_t seed = 0;
  int threads = 1;
};

struct EvalResult {
  std::vector<long> tasks;      // task indices in the split
  std::vector<double> losses;   // query MSE after adaptation, per task
  analysis::MeanCI summary;
  int support = 0, query = 0;
};

// Support rows are each task's first `support` examples, query rows the next `query`.
EvalResult evaluate(const TrainState& model, const tasks::RegressionSplit& split, const EvalOptions& opt);

}  // namespace symlearn::msr
