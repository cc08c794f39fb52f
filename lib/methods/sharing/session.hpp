// A whole `meta-train sharing…` run as the tool performs it: read the
// tasks, train (progress bar on stderr), write the model, return a summary.
#pragma once

#include "methods/sharing/train.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace symlearn::sharing {

struct SharingSessionOptions {
  std::string tasks_path, output = "-", kind = "sharing";
  int embed = 500, hidden = 50;
  SharingOptions train;
  bool quiet = false;
  // Whether an option (by flag, "--outer-lr") was given: the rest take the
  // protocol's values (yeh2022.hpp) once the data's kind and size are known.
  std::function<bool(const std::string&)> given = [](const std::string&) { return false; };
};

nlohmann::json run_sharing_train(const SharingSessionOptions& options);

}  // namespace symlearn::sharing
