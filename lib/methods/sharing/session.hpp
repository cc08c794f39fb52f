// A whole `meta-train sharing…` run as the tool performs it: read the
// tasks, train (progress bar on stderr), write the model, return a summary.
#pragma once

#include "methods/sharing/train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::sharing {

struct SharingSessionOptions {
  std::string tasks_path, output = "-", kind = "sharing";
  int embed = 500, hidden = 50;
  SharingOptions train;
  bool quiet = false;
};

nlohmann::json run_sharing_train(const SharingSessionOptions& options);

}  // namespace symlearn::sharing
