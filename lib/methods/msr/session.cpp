#include "methods/msr/session.hpp"

#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/training_run.hpp"
#include "methods/msr/model_io.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

namespace symlearn::msr {

namespace {
// The data's kernel and rank, from the config gen-tasks recorded.
int data_param(const nlohmann::json& cfg, const char* key, int fallback) {
  return cfg.contains(key) && cfg[key].is_number_integer() ? cfg[key].get<int>() : fallback;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::isnan(v) ? "-" : "%.4f", v);
  return buf;
}
}  // namespace

nlohmann::json run_meta_train(const SessionOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  std::optional<LoadedModel> resumed;
  if (!o.resume.empty()) {
    io::Reader ck(o.resume, "model");
    learn::check_resume_model(learn::ModelReader(ck), o.kind);
    resumed = load_model(ck);
  }
  const std::string tasks_path = resumed ? learn::resume_tasks(o.tasks_path, resumed->dataset, o.resume) : o.tasks_path;
  io::Reader tasks_file(tasks_path, "tasks");
  const learn::DatasetRecord dataset = learn::DatasetRecord::of(tasks_file, tasks_path);
  const nlohmann::json data_cfg = tasks_file.config();
  const tasks::RegressionSplit train = tasks::load_regression(tasks_file, "/train");

  TrainState st;
  if (resumed) {
    learn::check_same_dataset(resumed->dataset, dataset, o.resume, tasks_file.name());
    st = std::move(resumed->state);
    if (o.steps_given) st.options.steps = o.train.steps;
  } else {
    msr::Arch arch;
    arch.kind = o.kind;
    arch.input_dim = train.input_dim;
    arch.output_dim = train.output_dim;
    const int kernel = data_param(data_cfg, "kernel", 3), rank = data_param(data_cfg, "rank", 1);
    arch.kernel = o.kernel > 0 ? o.kernel : kernel;
    arch.latent = o.latent > 0 ? o.latent : kernel * rank;
    arch.kron_in = o.kron_in > 0 ? o.kron_in : kernel * rank;
    arch.kron_out = o.kron_out > 0 ? o.kron_out : kernel * rank;
    arch.lr_mode = msr::lr_mode_from_name(o.lr_mode);
    arch.inner_lr = o.inner_lr;
    arch.inner_solver = o.inner_solver;
    arch.ridge_lambda = o.ridge_lambda;
    arch.validate();
    if (!(o.u_init_std >= 0)) throw InputError("--u-init-std must be >= 0");
    st.options = o.train;
    if (!o.prox_op.empty()) {
      st.options.use_prox = true;
      st.options.prox.spec.op = prox::op_from_name(o.prox_op);
    }
    Rng rng(o.train.seed, 0);
    st.model = msr::MetaModel::init(arch, rng, o.u_init_std);
  }
  if (st.model.arch.input_dim != train.input_dim || st.model.arch.output_dim != train.output_dim)
    throw InputError(tasks_file.name() + ": has " + std::to_string(train.input_dim) + " -> " +
                     std::to_string(train.output_dim) + " tasks but the model maps " +
                     std::to_string(st.model.arch.input_dim) + " -> " + std::to_string(st.model.arch.output_dim));
  try {
    st.options.validate(train);
  } catch (const InputError& e) {  // a resumed run's options come from its file
    if (resumed) throw InputError(o.resume + ": " + e.what());
    throw;
  }
  if (o.checkpoint_every < 0) throw InputError("--checkpoint-every must be >= 0");

  learn::TrainingRun run(o.output, o.checkpoint);
  const auto save = [&](const TrainState& state) {
    return [&, s = &state](const std::string& path) { save_model(path, cli::created_by("meta-train"), *s, dataset); };
  };
  const auto where = [](const TrainState& state) { return "step " + std::to_string(state.step); };

  const long first_step = st.step;
  cli::Progress bar("meta-train " + st.model.arch.kind, static_cast<std::uint64_t>(st.options.steps), !o.quiet);
  TrainHooks hooks;
  hooks.on_step = [&](long step, double loss, double val) {
    bar.update(static_cast<std::uint64_t>(step), "loss " + fmt(loss) + "  val " + fmt(val));
  };
  hooks.on_checkpoint = [&](const TrainState& state) { run.checkpoint(save(state), where(state)); };
  hooks.checkpoint_every = o.checkpoint_every;
  hooks.stop = run.stop();

  TrainStatus status;
  const auto train_start = std::chrono::steady_clock::now();
  try {
    status = meta_train(st, train, o.threads, hooks);
  } catch (const RunError& e) {
    bar.finish();
    run.failed(e.what());
  }
  bar.finish();
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  if (status == TrainStatus::interrupted) run.interrupted(save(st), where(st));
  run.finish(save(st));

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long steps_run = st.step - first_step;
  nlohmann::json summary = {{"model", st.model.arch.kind},
                            {"parameters", st.model.count()},
                            {"steps", st.step},
                            {"steps_this_run", steps_run},
                            {"train_loss", st.log.train_loss.empty() ? 0.0 : st.log.train_loss.back()},
                            {"val_loss", st.log.val_loss.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(st.log.val_loss.back())},
                            {"seconds", secs},
                            {"train_seconds", train_secs},
                            // Outer steps per second of the training loop (validation included,
                            // loading and writing files not).
                            {"steps_per_second", train_secs > 0 ? steps_run / train_secs : 0.0},
                            {"threads", o.threads},
                            {"peak_rss_mib", cli::peak_rss_mib()},
                            {"output", o.output}};
  if (!o.quiet) {
    char line[256];
    std::snprintf(line, sizeof line, "meta-train: %s, %ld steps (%.1f steps/s), final train loss %s, val loss %s",
                  st.model.arch.kind.c_str(), st.step, train_secs > 0 ? steps_run / train_secs : 0.0,
                  fmt(summary["train_loss"].get<double>()).c_str(),
                  st.log.val_loss.empty() ? "-" : fmt(st.log.val_loss.back()).c_str());
    std::cerr << line << std::endl;
  }
  return summary;
}

}  // namespace symlearn::msr
