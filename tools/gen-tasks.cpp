// gen-tasks: write synthetic task datasets (HDF5) for symmetry learning.
// One subcommand per dataset kind; the kinds live in lib/tasks/kinds.
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "tasks/kinds.hpp"
#include "util/error.hpp"

#include <iostream>
#include <vector>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "gen-tasks: write a synthetic task dataset (HDF5) for symmetry learning.\n"
      "Choose a kind; each kind has its own --help.",
      "gen-tasks"};
  app.footer(
      "e.g.: gen-tasks locally-connected --rank 2 --seed 1 -o tasks.h5\n"
      "      gen-tasks sum-of-numbers --rank 2 --seed 1 -o sums.h5\n"
      "See also: meta-train, eval, inspect-symmetry");
  cli::init_app(app);
  app.require_subcommand(1);
  cli::Common common;
  std::string output = "-";
  app.set_version_flag("--version", cli::created_by("gen-tasks"));
  // --config belongs to the top level (CLI11 reads config files there); the
  // options of a kind go in its section, e.g. [locally-connected].
  app.set_config("--config", "", "Read options from a TOML/INI file; a kind's options go in its [section]");
  app.fallthrough();

  const auto kinds = tasks::kinds();
  std::vector<CLI::App*> commands;
  for (const auto& kind : kinds) {
    auto* cmd = app.add_subcommand(kind->name(), kind->description());
    cmd->footer(kind->footer());
    kind->add_options(*cmd);
    cmd->add_option("-o,--output", output, "Output file ('-' = stdout, never a terminal)")->capture_default_str();
    cli::add_common(*cmd, common, "gen-tasks");
    commands.push_back(cmd);
  }

  return cli::run_tool("gen-tasks", app, argc, argv, [&] {
    if (common.json && io::is_stdio(output))
      throw InputError("--json needs -o FILE: stdout already carries the HDF5 data");
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      if (!commands[i]->parsed()) continue;
      const tasks::KindResult result =
          kinds[i]->run({output, common.seed, cli::resolve_threads(common.threads), common.quiet});
      if (!common.quiet) std::cerr << "gen-tasks: " << result.line << std::endl;
      if (common.json) std::cout << result.json.dump(2) << std::endl;
    }
  });
}
