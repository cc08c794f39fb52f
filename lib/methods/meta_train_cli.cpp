#include "methods/meta_train_cli.hpp"

#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <iostream>
#include <set>
#include <sstream>

namespace symlearn::methods {

namespace {
bool is_model(const std::string& s) { return find_family(s) != nullptr; }
}  // namespace

MetaTrainCli::MetaTrainCli(CLI::App& app) : app_(app) {
  for (const Family& family : families()) {
    for (const ModelInfo& model : family.models) {
      auto c = std::make_unique<Command>();
      c->app = app.add_subcommand(model.name, model.summary + " [" + model.paper + "]");
      c->app->group(family.title);
      cli::init_app(*c->app);
      c->app->fallthrough();  // --config and --version after the model name
      c->trainer = family.trainer(model.name);
      auto& x = c->context;
      const bool resumable = c->trainer->resumable();
      c->app->footer("e.g.: " + model.example +
                     (resumable  // trained through learn::TrainingRun
                          ? "\nCtrl-C / SIGTERM: the current step ends, a checkpoint is written, exit 130; a step not "
                            "done within 10 s,\nor a second signal, ends the run at once (the last checkpoint stays "
                            "valid). Outputs are written as\n.NAME.tmp.PID.XXXXXX beside NAME and renamed when "
                            "complete; one left by kill -9 goes with the next write of NAME."
                          : "\nOutputs are written as .NAME.tmp.PID.XXXXXX beside NAME and renamed when complete; one "
                            "left by kill -9\ngoes with the next write of NAME.") +
                     "\nSee also: eval, inspect-symmetry");
      c->app->add_option("tasks", x.tasks_path,
                         resumable ? "Tasks file from gen-tasks ('-' = stdin; with --resume: the one it was trained on)"
                                   : "Tasks file from gen-tasks ('-' = stdin)");
      c->app->add_option("-o,--output", x.output, "Model file to write ('-' = stdout, never a terminal)")->capture_default_str();
      if (resumable)
        c->app->add_option("--resume", x.resume, "Continue from a checkpoint or model file (its options are used)");
      cli::add_common(*c->app, c->common, "meta-train");
      const std::size_t before = c->app->get_options().size();
      c->trainer->add_options(*c->app);
      const auto all = c->app->get_options();
      c->own.assign(all.begin() + static_cast<long>(before), all.end());
      commands_.push_back(std::move(c));
    }
  }
}

std::vector<std::string> MetaTrainCli::arguments(int argc, char** argv) const {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args)
    if (a == "--model" || a.rfind("--model=", 0) == 0)
      throw InputError("--model is gone: name the model first, e.g. meta-train msr-fc tasks.h5 -o model.h5 "
                       "(meta-train --help lists the models)");
  if (!args.empty() && is_model(args[0])) return args;
  static const std::set<std::string> valued = {"-o", "--output", "--checkpoint", "--resume", "--config"};
  for (std::size_t i = 0; i < args.size(); ++i)
    if (is_model(args[i]) && (i == 0 || !valued.count(args[i - 1]))) {
      std::rotate(args.begin(), args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 1);
      return args;
    }
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string file;
    if (args[i] == "--resume" && i + 1 < args.size()) file = args[i + 1];
    if (args[i].rfind("--resume=", 0) == 0) file = args[i].substr(9);
    if (file.empty()) continue;
    if (io::is_stdio(file)) throw InputError("--resume - reads stdin: name the model too (meta-train MODEL --resume -)");
    io::Reader f(file, "model");
    const learn::ModelReader model(f);
    if (!is_model(model.model())) model.fail("holds no model that meta-train can resume (it knows " + model_names() + ")");
    args.insert(args.begin(), model.model());
    return args;
  }
  return args;
}

std::string MetaTrainCli::explain(const CLI::ParseError& e) const {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::ConfigError))
    return std::string("--config: ") + e.what() + " (model options go in a [MODEL] section, named as on the command line without --)";
  if (e.get_exit_code() != static_cast<int>(CLI::ExitCodes::ExtrasError)) return "";
  // CLI11 lists the unexpected arguments last first; name the first option among them.
  const std::string what = e.what();
  std::vector<std::string> extra;
  std::istringstream words(what.substr(what.find(": ") + 2));
  for (std::string w; words >> w;) extra.insert(extra.begin(), w);
  std::string first = extra.empty() ? "" : extra.front();
  for (const auto& w : extra)
    if (w.size() > 1 && w[0] == '-') {
      first = w;
      break;
    }
  first = first.substr(0, first.find('='));
  const auto chosen = app_.get_subcommands();
  if (chosen.empty()) {
    if (!extra.empty() && extra.front().rfind("-", 0) != 0)
      return "unknown model '" + extra.front() + "' (models: " + model_names() + ")";
    return first + " needs a model first: meta-train MODEL " + first + " ... (see meta-train --help)";
  }
  const std::string model = chosen.front()->get_name();
  if (first.rfind("-", 0) != 0) return "unexpected argument '" + first + "' (see meta-train " + model + " --help)";
  return first + " is not an option of " + model + " (see meta-train " + model + " --help)";
}

void MetaTrainCli::run() const {
  Command* c = nullptr;
  for (auto& cmd : commands_)
    if (cmd->app->parsed()) c = cmd.get();
  if (!c) throw InputError("name a model: meta-train MODEL [options] TASKS -o OUT (models: " + model_names() + ")");
  const std::string model = c->app->get_name();
  auto& x = c->context;
  if (x.resume.empty() && x.tasks_path.empty()) throw InputError("meta-train " + model + ": a tasks file is required");
  if (!x.resume.empty()) {
    const auto allowed = c->trainer->resume_options();
    std::vector<CLI::Option*> fixed = c->own;
    fixed.push_back(c->app->get_option("--seed"));
    for (CLI::Option* o : fixed)
      if (o->count() > 0 && std::find(allowed.begin(), allowed.end(), o->get_name()) == allowed.end()) {
        std::string may;
        for (const auto& a : allowed) may += (may.empty() ? "" : ", ") + a;
        throw InputError(o->get_name() + " is fixed by the checkpoint " + x.resume + "; with --resume only " + may +
                         " may be given");
      }
  }
  if (c->common.json && io::is_stdio(x.output)) throw InputError("--json needs -o FILE: stdout carries the model");
  x.seed = c->common.seed;
  x.threads = cli::resolve_threads(c->common.threads);
  x.quiet = c->common.quiet;
  nlohmann::json summary;
  try {
    summary = c->trainer->train(x);
  } catch (const nlohmann::json::exception& e) {  // a file's config, never an internal error
    const std::string file = x.resume.empty() ? x.tasks_path : x.resume;
    throw InputError((io::is_stdio(file) ? std::string("<stdin>") : file) +
                     ": its config has a field of the wrong type or value (" + e.what() + ")");
  }
  if (c->common.json) std::cout << summary.dump(2) << std::endl;
}

}  // namespace symlearn::methods
