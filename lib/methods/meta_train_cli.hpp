// meta-train's command line, built from the registry: one subcommand per
// model (grouped by family in --help), each with the common options, the
// tasks file, -o, --resume for resumable models, and the model's own options.
// An option that is not the model's is an error naming both; `--resume FILE`
// alone picks the model from the file and may change only what the trainer
// allows (e.g. --steps).
#pragma once

#include "cli/cli.hpp"
#include "methods/registry.hpp"

#include <memory>
#include <string>
#include <vector>

namespace symlearn::methods {

class MetaTrainCli {
 public:
  explicit MetaTrainCli(CLI::App& app);  // adds a subcommand per model
  // argv with the model name first (where CLI11 looks for the subcommand),
  // read from the --resume file when the command line names no model.
  // Throws InputError for the old `--model NAME` form.
  std::vector<std::string> arguments(int argc, char** argv) const;
  // A one-line rewording of CLI11's error ("--prox is not an option of lconv"); "" keeps CLI11's.
  std::string explain(const CLI::ParseError& error) const;
  // Trains the parsed model; prints the JSON summary with --json.
  void run() const;

 private:
  struct Command {
    CLI::App* app = nullptr;
    std::unique_ptr<Trainer> trainer;
    cli::Common common;
    TrainContext context;
    std::vector<CLI::Option*> own;  // the family's options: fixed by a checkpoint unless allowed
  };
  CLI::App& app_;
  std::vector<std::unique_ptr<Command>> commands_;
};

}  // namespace symlearn::methods
