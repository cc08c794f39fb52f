// The dataset kinds gen-tasks writes, one per subcommand. Each kind owns its
// spec, binds its options to it and runs the generator, so the tool only
// loops over kinds() and knows no kind by name; adding a kind is one class in
// kinds.cpp and one line in kinds().
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace symlearn::tasks {

// What a run takes from the tool's output and common options.
struct KindContext {
  std::string output = "-";  // path, or "-" for stdout
  std::uint64_t seed = 0;
  int threads = 1;            // already resolved (cli::resolve_threads)
  bool quiet = false;         // no progress bar
};

// What the tool reports after a run.
struct KindResult {
  nlohmann::json json;  // the --json summary
  std::string line;     // the stderr summary, without the "gen-tasks: " prefix
};

class Kind {
 public:
  virtual ~Kind() = default;
  virtual std::string name() const = 0;         // the subcommand
  virtual std::string description() const = 0;  // its --help text
  virtual std::string footer() const = 0;       // its --help footer
  // The kind's own options, bound to the spec this object owns.
  virtual void add_options(CLI::App& app) = 0;
  // Validates the spec with the seed, writes the file through io::Writer.
  virtual KindResult run(const KindContext& context) = 0;
};

// Every kind, in the order gen-tasks lists them.
std::vector<std::unique_ptr<Kind>> kinds();

}  // namespace symlearn::tasks
