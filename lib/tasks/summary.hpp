// What a tool reports after writing a tasks file.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace symlearn::tasks {

struct WriteStats {
  std::string output;  // path, or "-" for stdout
  std::uint64_t bytes = 0;
  long tasks = 0;
  double seconds = 0.0;
  double peak_rss_mib = 0.0;
};

// JSON summary: the dataset config plus sizes and throughput.
nlohmann::json summary_json(const nlohmann::json& config, const WriteStats& stats);
// One human-readable line for stderr.
std::string summary_line(const nlohmann::json& config, const WriteStats& stats);

}  // namespace symlearn::tasks
