#include "learn/train_session.hpp"

#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace symlearn::learn {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void request_stop(int) { g_stop.store(true); }

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
  io::Reader tasks_file(o.tasks_path, "tasks");
  DatasetRecord dataset{o.tasks_path, tasks_file.sha256(),
                        tasks_file.has_attr("/", "kind") ? tasks_file.attr_string("/", "kind") : ""};
  const nlohmann::json data_cfg = tasks_file.config();
  const tasks::RegressionSplit train = tasks::load_regression(tasks_file, "/train");

  TrainState st;
  if (!o.resume.empty()) {
    io::Reader ck(o.resume, "model");
    LoadedModel loaded = load_model(ck);
    if (!loaded.dataset.sha256.empty() && loaded.dataset.sha256 != dataset.sha256)
      throw InputError(tasks_file.name() + ": is not the dataset " + o.resume + " was trained on (SHA-256 differs)");
    st = std::move(loaded.state);
    if (o.steps_given) st.options.steps = o.train.steps;
  } else {
    models::Arch arch;
    arch.kind = o.kind;
    arch.input_dim = train.input_dim;
    arch.output_dim = train.output_dim;
    const int kernel = data_param(data_cfg, "kernel", 3), rank = data_param(data_cfg, "rank", 1);
    arch.kernel = o.kernel > 0 ? o.kernel : kernel;
    arch.latent = o.latent > 0 ? o.latent : kernel * rank;
    arch.kron_in = o.kron_in > 0 ? o.kron_in : kernel * rank;
    arch.kron_out = o.kron_out > 0 ? o.kron_out : kernel * rank;
    arch.lr_mode = models::lr_mode_from_name(o.lr_mode);
    arch.inner_lr = o.inner_lr;
    arch.validate();
    if (!(o.u_init_std >= 0)) throw InputError("--u-init-std must be >= 0");
    st.options = o.train;
    if (!o.prox_op.empty()) {
      st.options.use_prox = true;
      st.options.prox.spec.op = prox::op_from_name(o.prox_op);
    }
    Rng rng(o.train.seed, 0);
    st.model = models::MetaModel::init(arch, rng, o.u_init_std);
  }
  if (st.model.arch.input_dim != train.input_dim || st.model.arch.output_dim != train.output_dim)
    throw InputError(tasks_file.name() + ": has " + std::to_string(train.input_dim) + " -> " +
                     std::to_string(train.output_dim) + " tasks but the model maps " +
                     std::to_string(st.model.arch.input_dim) + " -> " + std::to_string(st.model.arch.output_dim));
  st.options.validate(train);
  if (o.checkpoint_every < 0) throw InputError("--checkpoint-every must be >= 0");

  const bool default_checkpoint = o.checkpoint.empty();
  const std::string checkpoint = !default_checkpoint ? o.checkpoint
                                 : io::is_stdio(o.output) ? std::string()
                                                          : o.output + ".ckpt";
  if (io::is_stdio(o.output) && isatty(STDOUT_FILENO))
    throw InputError("<stdout>: is a terminal; refusing to write binary HDF5 there (use -o FILE or a pipe)");

  // Ctrl-C / SIGTERM: finish the current step, write a checkpoint, exit.
  g_stop.store(false);
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);

  long last_checkpoint = -1;
  auto write_checkpoint = [&](const TrainState& s) {
    if (checkpoint.empty()) return;
    save_model(checkpoint, cli::created_by("meta-train"), s, dataset);
    last_checkpoint = s.step;
  };

  const long first_step = st.step;
  cli::Progress bar("meta-train " + st.model.arch.kind, static_cast<std::uint64_t>(st.options.steps), !o.quiet);
  TrainHooks hooks;
  hooks.on_step = [&](long step, double loss, double val) {
    bar.update(static_cast<std::uint64_t>(step), "loss " + fmt(loss) + "  val " + fmt(val));
  };
  hooks.on_checkpoint = write_checkpoint;
  hooks.checkpoint_every = o.checkpoint_every;
  hooks.stop = &g_stop;

  TrainStatus status;
  const auto train_start = std::chrono::steady_clock::now();
  try {
    status = meta_train(st, train, o.threads, hooks);
  } catch (const RunError& e) {
    bar.finish();
    const std::string kept = last_checkpoint >= 0 ? "; the last good checkpoint (step " + std::to_string(last_checkpoint) +
                                                        ") is " + checkpoint
                                                  : "; no checkpoint was written";
    throw RunError(e.what() + kept);
  }
  bar.finish();
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (status == TrainStatus::interrupted) {
    if (checkpoint.empty())
      throw ExitRequest(130, "interrupted at step " + std::to_string(st.step) +
                                 "; no checkpoint written (give --checkpoint FILE or -o FILE)");
    write_checkpoint(st);
    throw ExitRequest(130, "interrupted at step " + std::to_string(st.step) + "; checkpoint written to " + checkpoint +
                               " (continue with --resume " + checkpoint + ")");
  }

  save_model(o.output, cli::created_by("meta-train"), st, dataset);
  // The model file holds the optimizer state too, so a default checkpoint is
  // no longer needed once the model is written.
  if (default_checkpoint && !checkpoint.empty()) std::remove(checkpoint.c_str());

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

}  // namespace symlearn::learn
