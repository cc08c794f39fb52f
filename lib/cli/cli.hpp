// What every tool shares: the common options, the one-line error convention
// and exit codes (design.md sections 4 and 5), the progress bar, JSON output.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace symlearn::cli {

struct Common {
  std::uint64_t seed = 0;
  int threads = 0;  // 0: every core
  bool quiet = false;
  bool json = false;
};

// Settings every tool's app shares; call before adding options or subcommands.
void init_app(CLI::App& app);

// Adds --seed, --threads, --quiet, --json and --config to `app` (a tool or
// one of its subcommands), and --version to a top-level app.
void add_common(CLI::App& app, Common& common, const std::string& tool);

// The number of worker threads to use for a --threads value (0 = all cores).
int resolve_threads(int requested);

// Parses argv and runs `body`, turning every failure into one line on stderr
// ("TOOL: message") and an exit status: 0 success, 2 usage or bad input,
// 1 failure while running. --help and --version print to stdout, exit 0.
// `explain`, when given, may reword a parse error for this tool ("" keeps CLI11's).
int run_tool(const std::string& tool, CLI::App& app, int argc, char** argv,
             const std::function<void()>& body,
             const std::function<std::string(const CLI::ParseError&)>& explain = nullptr);

// "TOOL VERSION", recorded as created_by in every output file.
std::string created_by(const std::string& tool);

// Peak resident memory of this process so far, in MiB.
double peak_rss_mib();

// A one-line progress bar on stderr, drawn only when stderr is a terminal and
// not --quiet: "label  [#####     ] 512/1000  51%  812/s  ETA 0:01  extra".
class Progress {
 public:
  Progress(std::string label, std::uint64_t total, bool enabled);
  ~Progress();
  void update(std::uint64_t done, const std::string& extra = "");
  void finish();

 private:
  void draw(std::uint64_t done, const std::string& extra);
  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};


}  // namespace symlearn::cli
