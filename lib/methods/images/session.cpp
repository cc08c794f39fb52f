#include "methods/images/session.hpp"

#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/training_run.hpp"
#include "methods/images/model_io.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace symlearn::images {

namespace {

std::string fmt4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

void check_fits(const images::ImageArch& a, const tasks::ImageSplit& d, const std::string& file) {
  if (a.height != d.height || a.width != d.width || a.channels != d.channels || a.classes < d.classes)
    throw InputError(file + ": holds " + std::to_string(d.height) + "x" + std::to_string(d.width) + "x" +
                     std::to_string(d.channels) + " images of " + std::to_string(d.classes) + " classes but the " + a.kind +
                     " model takes " + std::to_string(a.height) + "x" + std::to_string(a.width) + "x" +
                     std::to_string(a.channels) + " images of " + std::to_string(a.classes) + " classes");
}

}  // namespace

nlohmann::json run_classifier_training(const ClassifierSessionOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  o.train.validate();
  if (o.checkpoint_every < 0) throw InputError("--checkpoint-every must be >= 0");
  std::optional<LoadedClassifier> resumed;
  if (!o.resume.empty()) {
    io::Reader ck(o.resume, "model");
    learn::check_resume_model(learn::ModelReader(ck), o.arch.kind);
    resumed = load_classifier(ck);
  }
  const std::string tasks_path = resumed ? learn::resume_tasks(o.tasks_path, resumed->dataset, o.resume) : o.tasks_path;
  io::Reader tasks_file(tasks_path, "tasks");
  const learn::DatasetRecord dataset = learn::DatasetRecord::of(tasks_file, tasks_path);
  SupervisedState st;
  if (resumed) {
    learn::check_same_dataset(resumed->dataset, dataset, o.resume, tasks_file.name());
    st = std::move(resumed->state);
    if (o.epochs_given) st.options.epochs = o.train.epochs;
  } else {
    st.options = o.train;
  }
  const tasks::ImageSplit train = tasks::load_image_split(tasks_file, "/train", st.options.train_limit);
  if (o.resume.empty()) {
    images::ImageArch arch = o.arch;
    arch.height = train.height;
    arch.width = train.width;
    arch.channels = train.channels;
    arch.classes = train.classes;
    arch.validate();
    Rng rng(st.options.seed, 0);
    st.model = images::ImageModel::init(arch, rng);
  }
  check_fits(st.model.arch, train, tasks_file.name());
  if (!o.resume.empty()) {  // where the checkpoint says it stopped must exist in this data
    const long batches = (train.size() + st.options.batch - 1) / st.options.batch;
    if (st.epoch < 0 || st.batch < 0 || st.batch >= batches || st.opt.step < 0 || st.opt32.step < 0)
      throw InputError(o.resume + ": its position (epoch " + std::to_string(st.epoch) + ", batch " +
                       std::to_string(st.batch) + ") does not fit " + std::to_string(batches) +
                       " batches per epoch (corrupt checkpoint?)");
  }

  learn::TrainingRun run(o.output, o.checkpoint);
  const auto save = [&](const SupervisedState& state) {
    return [&, s = &state](const std::string& path) { save_classifier(path, cli::created_by("meta-train"), *s, dataset); };
  };
  const auto where = [](const SupervisedState& state) {
    return "epoch " + std::to_string(state.epoch) + ", batch " + std::to_string(state.batch);
  };

  const std::string kind = st.model.arch.kind;
  std::unique_ptr<cli::Progress> bar;
  SupervisedHooks hooks;
  hooks.on_batch = [&](const SupervisedState& s, long batches) {
    if (!bar)
      bar = std::make_unique<cli::Progress>(
          kind + " epoch " + std::to_string(s.epoch + 1) + "/" + std::to_string(s.options.epochs),
          static_cast<std::uint64_t>(batches), !o.quiet);
    bar->update(static_cast<std::uint64_t>(s.batch),
                "loss " + fmt4(s.run_loss / s.run_seen) + "  acc " + fmt4(s.run_correct / s.run_seen));
  };
  hooks.on_epoch = [&](const SupervisedState& s) {
    if (bar) bar->finish();
    bar.reset();
    if (!o.quiet && (!isatty(STDERR_FILENO) || !s.log.epoch_val_accuracy.empty()))
      std::cerr << "meta-train: " << kind << " epoch " << s.epoch << "/" << s.options.epochs << " loss "
                << fmt4(s.log.epoch_loss.back()) << " accuracy " << fmt4(s.log.epoch_accuracy.back())
                << (s.log.epoch_val_accuracy.empty() ? "" : " val " + fmt4(s.log.epoch_val_accuracy.back()))
                << std::endl;
  };
  hooks.on_checkpoint = [&](const SupervisedState& state) { run.checkpoint(save(state), where(state)); };
  hooks.checkpoint_every = o.checkpoint_every;
  hooks.stop = run.stop();
  // A /val split (gen-tasks --val-fraction): /val and /test accuracy after every epoch.
  std::optional<tasks::ImageSplit> val, test;
  if (tasks_file.has("/val")) {
    val = tasks::load_image_split(tasks_file, "/val");
    test = tasks::load_image_split(tasks_file, "/test");
    check_fits(st.model.arch, *val, tasks_file.name());
    check_fits(st.model.arch, *test, tasks_file.name());
    hooks.val = &*val;
    hooks.test = &*test;
  }

  const long first_steps = static_cast<long>(st.log.step_loss.size());
  const auto train_start = std::chrono::steady_clock::now();
  SupervisedStatus status;
  try {
    status = train_classifier(st, train, hooks, o.threads);
  } catch (const RunError& e) {
    if (bar) bar->finish();
    run.failed(e.what());
  }
  if (bar) bar->finish();
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  if (status == SupervisedStatus::interrupted) run.interrupted(save(st), where(st));
  run.finish(save(st));

  const long steps_run = static_cast<long>(st.log.step_loss.size()) - first_steps;
  nlohmann::json summary = {
      {"model", kind},
      {"parameters", st.model.count()},
      {"trainable_parameters", st.model.trainable_count()},
      {"epochs", st.epoch},
      {"steps", st.log.step_loss.size()},
      {"train_loss", st.log.epoch_loss.empty() ? 0.0 : st.log.epoch_loss.back()},
      {"train_accuracy", st.log.epoch_accuracy.empty() ? 0.0 : st.log.epoch_accuracy.back()},
      {"train_examples", train.size()},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
      {"train_seconds", train_secs},
      {"steps_per_second", train_secs > 0 ? steps_run / train_secs : 0.0},
      {"threads", o.threads},
      {"peak_rss_mib", cli::peak_rss_mib()},
      {"output", o.output}};
  if (const auto& va = st.log.epoch_val_accuracy; !va.empty()) {
    // The authors' number: the best epoch's validation accuracy; beside it the
    // test accuracy of that epoch and of the last.
    const std::size_t best = std::size_t(std::max_element(va.begin(), va.end()) - va.begin());
    summary["best_val_accuracy"] = va[best];
    summary["best_epoch"] = best + 1;
    summary["test_accuracy_at_best_epoch"] = st.log.epoch_test_accuracy[best];
    summary["final_test_accuracy"] = st.log.epoch_test_accuracy.back();
    summary["val_examples"] = val ? val->size() : 0;
  }
  if (!o.quiet) {
    char line[256];
    std::snprintf(line, sizeof line, "meta-train: %s, %ld parameters, %ld epochs in %.1f s, final train loss %s, accuracy %s",
                  kind.c_str(), st.model.count(), st.epoch, train_secs, fmt4(summary["train_loss"].get<double>()).c_str(),
                  fmt4(summary["train_accuracy"].get<double>()).c_str());
    std::cerr << line << std::endl;
  }
  return summary;
}

nlohmann::json evaluate_classifier_file(const io::Reader& mf, const std::string& tasks_path,
                                        const std::string& split, long limit) {
  const LoadedClassifier m = load_classifier(mf);
  io::Reader tf(tasks_path, "tasks");
  const std::string group = split.empty() ? "/test" : split.front() == '/' ? split : "/" + split;
  const tasks::ImageSplit data = tasks::load_image_split(tf, group, limit);
  check_fits(m.state.model.arch, data, tf.name());
  const ClassifierEval r = evaluate_classifier(m.state.model, data);
  nlohmann::json confusion = nlohmann::json::array();
  for (int i = 0; i < r.confusion.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int j = 0; j < r.confusion.cols(); ++j) row.push_back(r.confusion(i, j));
    confusion.push_back(row);
  }
  return {{"model", m.state.model.arch.kind},
          {"tasks", tf.name()},
          {"split", group},
          {"examples", r.n},
          {"accuracy", r.accuracy},
          {"loss", r.loss},
          {"parameters", m.state.model.count()},
          {"trainable_parameters", m.state.model.trainable_count()},
          {"epochs", m.state.epoch},
          {"confusion", confusion},
          {"confusion_description", "rows: true class, columns: predicted class"}};
}

std::string eval_text(const nlohmann::json& r) {
  char line[512];
  std::snprintf(line, sizeof line, "%s on %s %s: accuracy %.4f (%ld images, loss %.4f, %ld parameters)\n",
                r["model"].get<std::string>().c_str(), r["tasks"].get<std::string>().c_str(),
                r["split"].get<std::string>().c_str(), r["accuracy"].get<double>(), r["examples"].get<long>(),
                r["loss"].get<double>(), r["parameters"].get<long>());
  return line;
}

}  // namespace symlearn::images
