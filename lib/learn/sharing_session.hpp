// A whole `meta-train --model sharing…` run as the tool performs it: read the
// tasks, train (progress bar on stderr), write the model, return a summary.
#pragma once

#include "learn/sharing_train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::learn {

struct SharingSessionOptions {
  std::string tasks_path, output = "-", kind = "sharing";
  int embed = 500, hidden = 50;
  SharingOptions train;
  bool quiet = false;
};

nlohmann::json run_sharing_train(const SharingSessionOptions& options);

}  // namespace symlearn::learn
