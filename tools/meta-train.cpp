// meta-train: one subcommand per model of every method family (lib/methods/registry).
#include "cli/cli.hpp"
#include "methods/meta_train_cli.hpp"
#include "util/error.hpp"

#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "meta-train: train a model of one of symlearn's method families and write it as a model file.\n"
      "Name the model first; `meta-train MODEL --help` lists that model's options.",
      "meta-train"};
  app.footer(
      "e.g.: gen-tasks locally-connected -o tasks.h5 && meta-train msr-fc tasks.h5 -o model.h5\n"
      "      meta-train --resume model.h5.ckpt --steps 2000   (continues a run; the file names the model)\n"
      "      --config FILE takes a section per model: [msr-fc] steps = 2000\n"
      "See also: gen-tasks, eval, inspect-symmetry, prox-regularize");
  cli::init_app(app);
  app.set_version_flag("--version", cli::created_by("meta-train"));
  app.set_config("--config", "", "Read options from a TOML/INI file, a [MODEL] section per model (command-line options win)");
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored

  const methods::MetaTrainCli cli(app);
  std::vector<std::string> args;
  try {
    args = cli.arguments(argc, argv);
  } catch (const InputError& e) {
    std::cerr << "meta-train: " << e.what() << std::endl;
    return 2;
  }
  std::vector<char*> argv2 = {argv[0]};
  for (auto& a : args) argv2.push_back(a.data());
  return cli::run_tool(
      "meta-train", app, static_cast<int>(argv2.size()), argv2.data(), [&] { cli.run(); },
      [&](const CLI::ParseError& e) { return cli.explain(e); });
}
