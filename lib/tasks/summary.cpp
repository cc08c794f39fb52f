#include "tasks/summary.hpp"

#include "cli/cli.hpp"
#include "util/human_bytes.hpp"

#include <cstdio>

namespace symlearn::tasks {

nlohmann::json summary_json(const nlohmann::json& config, const WriteStats& st) {
  const double secs = st.seconds > 0 ? st.seconds : 1e-9;
  return {{"output", st.output},
          {"config", config},
          {"bytes", st.bytes},
          {"seconds", st.seconds},
          {"tasks_per_second", static_cast<double>(st.tasks) / secs},
          {"megabytes_per_second", static_cast<double>(st.bytes) / 1e6 / secs},
          {"peak_rss_mib", st.peak_rss_mib}};
}

std::string summary_line(const nlohmann::json& c, const WriteStats& st) {
  const double secs = st.seconds > 0 ? st.seconds : 1e-9;
  std::string what = c.value("kind", std::string("tasks"));
  if (what == "locally-connected") {
    what += " rank " + std::to_string(c["rank"].get<int>()) + ", kernel " + std::to_string(c["kernel"].get<int>()) +
            ", n=" + std::to_string(c["input_dim"].get<int>()) + " -> m=" + std::to_string(c["output_dim"].get<int>()) +
            "; /train " + std::to_string(c["train_tasks"].get<long>()) + " tasks, /test " +
            std::to_string(c["test_tasks"].get<long>()) + ", " + std::to_string(c["samples"].get<int>()) +
            " samples each";
  } else if (what == "sum-of-numbers") {
    what += " rank " + std::to_string(c["rank"].get<int>()) + ", L=" + std::to_string(c["length"].get<int>()) +
            "; /train " + std::to_string(c["train"].get<long>()) + ", /val " + std::to_string(c["val"].get<long>()) +
            ", /hyper " + std::to_string(c["hyper"].get<long>()) + ", /test " + std::to_string(c["test"].get<long>()) +
            " examples";
  } else if (what == "gaussian-sharing") {
    what += " rank " + std::to_string(c["rank"].get<int>()) + ", K=" + std::to_string(c["dim"].get<int>()) +
            "; /train " + std::to_string(c["train"].get<long>()) + ", /val " + std::to_string(c["val"].get<long>()) +
            ", /test " + std::to_string(c["test"].get<long>()) + " examples";
  }
  char rate[160];
  std::snprintf(rate, sizeof rate, "%s in %.2f s (%.0f tasks/s, %.1f MB/s), peak memory %.0f MiB",
                human_bytes(static_cast<double>(st.bytes)).c_str(), st.seconds,
                static_cast<double>(st.tasks) / secs, static_cast<double>(st.bytes) / 1e6 / secs, st.peak_rss_mib);
  return "wrote " + (st.output == "-" ? std::string("<stdout>") : st.output) + ": " + what + "; " + rate;
}

}  // namespace symlearn::tasks
