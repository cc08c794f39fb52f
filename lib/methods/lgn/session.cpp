#include "methods/lgn/session.hpp"

#include "cli/cli.hpp"
#include "learn/model_file.hpp"
#include "learn/training_run.hpp"
#include "methods/lgn/scores.hpp"
#include "tasks/lgn_patches.hpp"
#include "util/error.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace symlearn::lgn {

namespace {

std::string fmt4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

void check_fits(const LgnArch& a, const tasks::ImageSplit& d, const std::string& file) {
  if (a.height != d.height || a.width != d.width || a.channels != d.channels ||
      (!a.reconstruction() && a.classes < d.classes))
    throw InputError(file + ": holds " + std::to_string(d.height) + "x" + std::to_string(d.width) + "x" +
                     std::to_string(d.channels) + " images of " + std::to_string(d.classes) + " classes but the " +
                     a.kind + " model takes " + std::to_string(a.height) + "x" + std::to_string(a.width) + "x" +
                     std::to_string(a.channels) + " images of " + std::to_string(a.classes) + " classes");
}

ImageRows whitened(const LgnModel& m, const tasks::ImageSplit& s) {
  ImageRows x = s.x;
  if (!m.whitening.empty()) tasks::apply_whitening(m.whitening, x);
  return x;
}

}  // namespace

std::vector<double> invertibility_residuals(const LgnModel& m) {
  std::vector<double> r;
  for (const Layer& y : m.layers)
    for (std::size_t j = 0; j < y.action_inv.size(); ++j) r.push_back(inverse_residual(y.action[j], y.action_inv[j]));
  return r;
}

nlohmann::json run_network_training(const SessionOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  std::optional<TrainState> resumed;
  if (!o.resume.empty()) {
    io::Reader ck(o.resume, "model");
    learn::check_resume_model(learn::ModelReader(ck), o.arch.kind);
    resumed = load_state(ck);
  }
  const learn::DatasetRecord trained_on =
      resumed ? learn::ModelReader(io::Reader(o.resume, "model")).dataset() : learn::DatasetRecord{};
  const std::string tasks_path = resumed ? learn::resume_tasks(o.tasks_path, trained_on, o.resume) : o.tasks_path;
  io::Reader tasks_file(tasks_path, "tasks");
  const learn::DatasetRecord dataset = learn::DatasetRecord::of(tasks_file, tasks_path);
  TrainState st;
  if (resumed) {
    learn::check_same_dataset(trained_on, dataset, o.resume, tasks_file.name());
    st = std::move(*resumed);
    if (o.epochs_given) {
      if (o.train.epochs < st.epoch) throw InputError("--epochs " + std::to_string(o.train.epochs) + " is fewer than the " +
                                                      std::to_string(st.epoch) + " epochs already done");
      st.options.epochs = o.train.epochs;
    }
  } else {
    o.train.validate();
    st.options = o.train;
  }
  const tasks::ImageSplit train = tasks::load_image_split(tasks_file, "/train", st.options.train_limit);
  if (!resumed) {
    LgnArch arch = o.arch;
    arch.height = train.height;
    arch.width = train.width;
    arch.channels = train.channels;
    arch.classes = train.classes;
    st.model = LgnModel::init(arch, st.options.seed);
    st.opt.lr = st.options.lr;
    if (st.options.whiten) {
      if (!o.quiet) std::cerr << "meta-train: whitening " << train.size() << " training images" << std::endl;
      st.model.whitening = tasks::fit_whitening(train.x, st.options.whiten_epsilon);
    }
  }
  check_fits(st.model.arch, train, tasks_file.name());
  const ImageRows x = whitened(st.model, train);

  learn::TrainingRun run(o.output, o.checkpoint);
  const auto save = [&](TrainState& s) {
    return [&, p = &s](const std::string& path) { save_state(path, cli::created_by("meta-train"), *p, dataset); };
  };
  const auto where = [](const TrainState& s) {
    return "epoch " + std::to_string(s.epoch) + ", batch " + std::to_string(s.batch);
  };
  const std::string kind = st.model.arch.kind;
  std::unique_ptr<cli::Progress> bar;
  Hooks hooks;
  hooks.on_batch = [&](const TrainState& s, long batches) {
    if (!bar)
      bar = std::make_unique<cli::Progress>(kind + " epoch " + std::to_string(s.epoch + 1) + "/" +
                                                std::to_string(s.options.epochs),
                                            static_cast<std::uint64_t>(batches), !o.quiet);
    std::string extra = "loss " + fmt4(s.run_loss / s.run_seen);
    if (!s.model.arch.reconstruction()) extra += "  acc " + fmt4(s.run_correct / s.run_seen);
    bar->update(static_cast<std::uint64_t>(s.batch + 1), extra);
  };
  hooks.on_epoch = [&](TrainState& s) {
    if (bar) bar->finish();
    bar.reset();
    if (!o.quiet && !isatty(STDERR_FILENO))
      std::cerr << "meta-train: " << kind << " epoch " << s.epoch << "/" << s.options.epochs << " loss "
                << fmt4(s.epoch_loss.back()) << " penalty " << fmt4(s.epoch_penalty.back())
                << (s.epoch_accuracy.empty() ? "" : " accuracy " + fmt4(s.epoch_accuracy.back())) << std::endl;
    run.checkpoint(save(s), where(s));
  };
  hooks.stop = run.stop();
  const auto train_start = std::chrono::steady_clock::now();
  const long steps_before = long(st.step_loss.size());
  Status status = Status::finished;
  try {
    status = lgn::train(st, x, train.labels, hooks);
  } catch (const RunError& e) {
    if (bar) bar->finish();
    run.failed(e.what());
  }
  if (bar) bar->finish();
  const double train_secs = seconds_since(train_start);
  if (status == Status::interrupted) run.interrupted(save(st), where(st));
  run.finish(save(st));

  const std::vector<double> inv = invertibility_residuals(st.model);
  nlohmann::json summary = {{"model", kind},
                            {"parameters", st.model.count()},
                            {"epochs", st.epoch},
                            {"steps", st.step_loss.size()},
                            {"train_loss", st.epoch_loss.empty() ? 0.0 : st.epoch_loss.back()},
                            {"train_penalty", st.epoch_penalty.empty() ? 0.0 : st.epoch_penalty.back()},
                            {"train_examples", train.size()},
                            {"seconds", seconds_since(start)},
                            {"train_seconds", train_secs},
                            {"steps_per_second", train_secs > 0 ? double(long(st.step_loss.size()) - steps_before) / train_secs : 0.0},
                            {"peak_rss_mib", cli::peak_rss_mib()},
                            {"output", o.output}};
  if (!st.epoch_accuracy.empty()) summary["train_accuracy"] = st.epoch_accuracy.back();
  if (!inv.empty()) summary["median_inverse_residual"] = median(inv);
  if (!o.quiet) {
    char line[256];
    std::snprintf(line, sizeof line, "meta-train: %s, %ld parameters, %ld epochs in %.1f s, final train loss %s",
                  kind.c_str(), st.model.count(), st.epoch, train_secs,
                  fmt4(summary["train_loss"].get<double>()).c_str());
    std::cerr << line << std::endl;
  }
  return summary;
}

nlohmann::json evaluate_network_file(const io::Reader& mf, const std::string& tasks_path, const std::string& split,
                                     long limit) {
  TrainState st = load_state(mf);
  io::Reader tf(tasks_path, "tasks");
  const std::string group = split.empty() ? "/test" : split.front() == '/' ? split : "/" + split;
  const tasks::ImageSplit data = tasks::load_image_split(tf, group, limit);
  check_fits(st.model.arch, data, tf.name());
  const Evaluation e = evaluate(st.model, whitened(st.model, data), data.labels);
  nlohmann::json j = {{"model", st.model.arch.kind}, {"tasks", tf.name()}, {"split", group},
                      {"examples", e.n},           {"epochs", st.epoch}, {"parameters", st.model.count()}};
  if (st.model.arch.reconstruction()) {
    j["mse"] = e.loss;
  } else {
    j["accuracy"] = e.accuracy;
    j["loss"] = e.loss;
  }
  const std::vector<double> inv = invertibility_residuals(st.model);
  if (!inv.empty()) j["median_inverse_residual"] = median(inv);
  return j;
}

// ---- the sterile action fit ----------------------------------------------------------

nlohmann::json run_action_fit(const ActionSessionOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  io::refuse_terminal(o.output);
  o.fit.validate();
  io::Reader file(o.tasks_path, "tasks");
  const tasks::PatchPairs p = tasks::load_patch_pairs(file, "/train");
  const ActionFit r = fit_action(p.x, p.y, o.fit);
  const double secs = seconds_since(start);
  const nlohmann::json config = {
      {"data", {{"transform", p.transform}, {"patch", p.patch}, {"pairs", p.x.cols()}}},
      {"training",
       {{"epochs", o.fit.epochs}, {"batch", o.fit.batch}, {"lr", o.fit.lr}, {"clip", o.fit.clip},
        {"a_projection", o.fit.projection}, {"steps", r.steps}, {"optimizer", o.fit.optimizer}}},
      {"seed", o.fit.seed}};
  learn::ModelWriter w(o.output, cli::created_by("meta-train"), "lgn-action", config,
                       learn::DatasetRecord::of(file, o.tasks_path));
  w.param("action", learn::Role::symmetry, r.a);
  w.attr("action", "vec", std::string("row-major"));
  w.attr("action", "description", std::string("the learned action A, y ~ A x on row-major patches"));
  w.log("epoch_loss", r.epoch_loss);
  w.log_description("epoch_loss: mean squared error over each epoch's mini-batches");
  w.commit();
  const double mse = r.epoch_loss.empty() ? 0.0 : r.epoch_loss.back();
  if (!o.quiet)
    std::fprintf(stderr, "meta-train: lgn-action on %ld %dx%d patch pairs (%s), %d epochs: train MSE %.4g, %.2f s\n",
                 long(p.x.cols()), p.patch, p.patch, p.transform.c_str(), o.fit.epochs, mse, secs);
  return {{"model", "lgn-action"}, {"pairs", p.x.cols()}, {"transform", p.transform}, {"train_mse", mse},
          {"steps", r.steps},      {"seconds", secs},       {"peak_rss_mib", cli::peak_rss_mib()},
          {"output", o.output}};
}

Eigen::MatrixXd load_action(const io::Reader& f, int* patch) {
  const learn::ModelReader r(f);
  const nlohmann::json& data = r.section("data");
  const int p = data.value("patch", 0);
  if (p < 2 || p > 16) r.fail("its config's data section gives no patch size in [2, 16]");
  const long d = long(p) * p;
  Eigen::MatrixXd a = r.param("action", learn::Role::symmetry, d, d);
  if (!a.allFinite()) r.fail("/params/action holds NaN or infinite values");
  if (patch) *patch = p;
  return a;
}

nlohmann::json evaluate_action_file(const io::Reader& mf, const std::string& tasks_path, const std::string& split,
                                    long limit) {
  int p = 0;
  const Eigen::MatrixXd a = load_action(mf, &p);
  io::Reader tf(tasks_path, "tasks");
  const std::string group = split.empty() ? "/test" : split.front() == '/' ? split : "/" + split;
  tasks::PatchPairs pairs = tasks::load_patch_pairs(tf, group);
  if (pairs.patch != p)
    throw InputError(tf.name() + ": holds " + std::to_string(pairs.patch) + "x" + std::to_string(pairs.patch) +
                     " patches, the model acts on " + std::to_string(p) + "x" + std::to_string(p));
  if (limit > 0 && limit < pairs.x.cols()) {
    pairs.x = pairs.x.leftCols(limit).eval();
    pairs.y = pairs.y.leftCols(limit).eval();
  }
  const Eigen::MatrixXd t = tasks::load_true_operator(tf);
  const double mse = action_mse(a, pairs.x, pairs.y);
  // The best scale: the projected fit can only match T's direction.
  const double c = (a.array() * t.array()).sum() / std::max(a.squaredNorm(), 1e-300);
  const ArgmaxCheck am = row_argmax_check(a, t);
  return {{"model", "lgn-action"},
          {"tasks", tf.name()},
          {"split", group},
          {"pairs", pairs.x.cols()},
          {"transform", pairs.transform},
          {"mse", mse},
          {"relative_mse", pairs.y.squaredNorm() > 0 ? (a * pairs.x - pairs.y).squaredNorm() / pairs.y.squaredNorm() : 0.0},
          {"cos_truth", cosine(a, t)},
          {"relative_error", (a - t).norm() / t.norm()},
          {"relative_error_best_scale", (c * a - t).norm() / t.norm()},
          {"argmax_rows", am.matched},
          {"argmax_rows_of", am.rows}};
}

}  // namespace symlearn::lgn
