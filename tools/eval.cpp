// eval: how well a trained model does on a split of a tasks file; the model
// file says which family it belongs to (lib/methods/registry).
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "methods/registry.hpp"
#include "util/error.hpp"

#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "eval: evaluate a model file on a split of a tasks file. Meta-learned models (msr-*, maml-*) adapt to\n"
      "every task on its support set and report the mean query MSE with its 95% t-interval; learned-sharing\n"
      "models report MAE / MSE / accuracy and the partition distance to the true sharing; image classifiers\n"
      "report accuracy and the confusion matrix.",
      "eval"};
  app.footer(
      "e.g.: build/bin/eval --tasks tasks.h5 model.h5\n"
      "      build/bin/meta-train msr-fc tasks.h5 | build/bin/eval --tasks tasks.h5 --limit 300 -\n"
      "Note: `eval` is a shell builtin; call the binary by its path.\n"
      "See also: meta-train, inspect-symmetry");
  cli::init_app(app);
  cli::Common common;
  methods::EvalRequest q;
  std::string split = "test";
  cli::add_common(app, common, "eval");
  app.add_option("model", q.model_path, "Model file from meta-train ('-' = stdin)")->required();
  app.add_option("--tasks", q.tasks_path, "Tasks file to evaluate on")->required();
  app.add_option("--split", split, "Split of the tasks file")->capture_default_str();
  app.add_option("--limit", q.limit, "Evaluate a seeded random sample of this many tasks or images (0: all)")
      ->capture_default_str();
  app.add_option("--support", q.support, "Meta-learned models: support examples per task (default: the training value)");
  app.add_option("--query", q.query, "Meta-learned models: query examples per task (default: the training value)");
  app.add_option("-o,--output", q.output, "Meta-learned models: write per-task losses to this HDF5 file ('-' = stdout)");

  return cli::run_tool("eval", app, argc, argv, [&] {
    q.seed = common.seed;
    q.threads = cli::resolve_threads(common.threads);
    q.split = split.front() == '/' ? split : "/" + split;
    if (io::is_stdio(q.model_path) && io::is_stdio(q.tasks_path))
      throw InputError("the model and the tasks cannot both come from stdin");
    if (io::is_stdio(q.output) && common.json) throw InputError("--json and -o - both want stdout");
    io::Reader model_file(q.model_path, "model");
    const methods::EvalResult r = methods::family_of(model_file).eval(model_file, q);
    if (common.json)
      std::cout << r.json.dump(2) << std::endl;
    else
      std::cout << r.text << std::flush;
  });
}
