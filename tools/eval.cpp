// eval: adapt a meta-trained model to held-out tasks and report the query MSE.
#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/evaluate.hpp"
#include "learn/model_file.hpp"
#include "learn/sharing_eval.hpp"
#include "learn/sharing_file.hpp"
#include "models/sharing.hpp"
#include "learn/supervised.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <iostream>

using namespace symlearn;

int main(int argc, char** argv) {
  CLI::App app{
      "eval: adapt a meta-trained model to every task of a split (its own inner loop on the support set)\n"
      "and report the mean query MSE with its 95% t-interval.",
      "eval"};
  app.footer(
      "e.g.: build/bin/eval --tasks tasks.h5 model.h5\n"
      "      build/bin/meta-train --model msr-fc tasks.h5 | build/bin/eval --tasks tasks.h5 --limit 300 -\n"
      "Note: `eval` is a shell builtin; call the binary by its path.\n"
      "See also: meta-train, inspect-symmetry");
  cli::init_app(app);
  cli::Common common;
  std::string model_path, tasks_path, split = "test", output;
  learn::EvalOptions opt;
  cli::add_common(app, common, "eval");
  app.add_option("model", model_path, "Model file from meta-train ('-' = stdin)")->required();
  app.add_option("--tasks", tasks_path, "Tasks file to evaluate on")->required();
  app.add_option("--split", split, "Split of the tasks file")->capture_default_str();
  app.add_option("--limit", opt.limit, "Evaluate a seeded random sample of this many tasks (0: all)")->capture_default_str();
  app.add_option("--support", opt.support, "Support examples per task (default: the training value)");
  app.add_option("--query", opt.query, "Query examples per task (default: the training value)");
  app.add_option("-o,--output", output, "Write per-task losses to this HDF5 file ('-' = stdout)");

  return cli::run_tool("eval", app, argc, argv, [&] {
    opt.seed = common.seed;
    opt.threads = cli::resolve_threads(common.threads);
    if (io::is_stdio(model_path) && io::is_stdio(tasks_path)) throw InputError("the model and the tasks cannot both come from stdin");
    if (io::is_stdio(output) && common.json) throw InputError("--json and -o - both want stdout");
    io::Reader model_file(model_path, "model");
    if (models::is_sharing_kind(learn::model_kind(model_file))) {
      // A single-dataset model: predict on the split (no adaptation), report its metrics.
      if (!output.empty()) throw InputError("-o is for per-task reports of meta-learned models; use --json");
      const learn::SharingModel model = learn::load_sharing_model(model_file);
      io::Reader tasks_file(tasks_path, "tasks");
      const learn::SharingEval r =
          learn::evaluate_sharing(model, tasks_file, split.front() == '/' ? split : "/" + split);
      if (common.json)
        std::cout << r.to_json().dump(2) << std::endl;
      else
        std::cout << r.line(tasks_file.name()) << std::endl;
      return;
    }
    if (learn::is_image_model(model_file)) {  // L-conv family (issue 7): accuracy, confusion matrix
      if (!output.empty()) throw InputError("-o is for meta-learned models; use --json for an image model's results");
      const nlohmann::json r = learn::evaluate_classifier_file(model_file, tasks_path, split, opt.limit);
      std::cout << (common.json ? r.dump(2) + "\n" : learn::eval_text(r)) << std::flush;
      return;
    }
    const learn::LoadedModel model = learn::load_model(model_file);
    io::Reader tasks_file(tasks_path, "tasks");
    const std::string group = split.front() == '/' ? split : "/" + split;
    const tasks::RegressionSplit data = tasks::load_regression(tasks_file, group);
    const auto& arch = model.state.model.arch;
    if (arch.input_dim != data.input_dim || arch.output_dim != data.output_dim)
      throw InputError(model_file.name() + ": the " + arch.kind + " model maps " + std::to_string(arch.input_dim) +
                       " -> " + std::to_string(arch.output_dim) + " but " + tasks_file.name() + " " + group + " holds " +
                       std::to_string(data.input_dim) + " -> " + std::to_string(data.output_dim) + " tasks");
    const std::string kind = tasks_file.has_attr("/", "kind") ? tasks_file.attr_string("/", "kind") : "";
    if (!model.dataset.kind.empty() && !kind.empty() && model.dataset.kind != kind)
      throw InputError(model_file.name() + ": was trained on " + model.dataset.kind + " tasks but " +
                       tasks_file.name() + " holds " + kind + " tasks");

    const learn::EvalResult r = learn::evaluate(model.state, data, opt);
    if (!output.empty()) {
      nlohmann::json cfg = {{"model", model_path}, {"tasks", tasks_path}, {"split", group}, {"limit", opt.limit},
                            {"support", r.support}, {"query", r.query},  {"seed", opt.seed}};
      io::Writer w(output, "report", cli::created_by("eval"), cfg);
      std::vector<std::int64_t> ids(r.tasks.begin(), r.tasks.end());
      w.write("/task", {ids.size()}, ids.data());
      w.write("/loss", {r.losses.size()}, r.losses.data());
      w.attr("/loss", "description", std::string("query MSE after adaptation, per task (index into " + group + ")"));
      w.attr("/", "mean", r.summary.mean);
      w.attr("/", "ci95", r.summary.half_width);
      w.commit();
    }
    if (common.json) {
      std::cout << nlohmann::json{{"model", arch.kind},          {"split", group},
                                  {"tasks", r.summary.n},        {"mse", r.summary.mean},
                                  {"ci95", r.summary.half_width}, {"std", r.summary.std},
                                  {"support", r.support},         {"query", r.query}}
                       .dump(2)
                << std::endl;
    } else if (!io::is_stdio(output)) {
      std::printf("%s on %s %s: MSE %.4f ± %.4f (95%% CI, %ld tasks, support %d, query %d)\n", arch.kind.c_str(),
                  tasks_file.name().c_str(), group.c_str(), r.summary.mean, r.summary.half_width, r.summary.n,
                  r.support, r.query);
    }
  });
}
