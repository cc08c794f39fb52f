#include "learn/supervised.hpp"

#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "learn/classifier_file.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

namespace symlearn::learn {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void classifier_request_stop(int) { g_stop.store(true); }

// The shuffled order of an epoch: a function of (seed, epoch) only.
std::vector<long> epoch_order(std::uint64_t seed, long epoch, long n) {
  Rng rng(seed, 0x5000000 + std::uint64_t(epoch));
  std::vector<long> o(n);
  for (long i = 0; i < n; ++i) o[i] = i;
  for (long i = n - 1; i > 0; --i) std::swap(o[i], o[rng.below(std::uint64_t(i) + 1)]);
  return o;
}

long count_correct(const ad::Mat& logits, const std::vector<int>& labels) {
  long k = 0;
  for (ad::Index i = 0; i < logits.rows(); ++i) {
    ad::Index best;
    logits.row(i).maxCoeff(&best);
    k += best == labels[std::size_t(i)];
  }
  return k;
}

void rmsprop_update(Adam& s, std::vector<Eigen::MatrixXd*>& params, const std::vector<Eigen::MatrixXd>& grads,
                    double lr) {
  const double rho = 0.9, eps = 1e-7;
  if (s.v.empty())
    for (const auto& g : grads) s.v.push_back(Eigen::MatrixXd::Zero(g.rows(), g.cols()));
  ++s.step;
  for (std::size_t i = 0; i < params.size(); ++i) {
    s.v[i] = rho * s.v[i] + (1 - rho) * grads[i].cwiseProduct(grads[i]);
    params[i]->array() -= lr * grads[i].array() / (s.v[i].array().sqrt() + eps);
  }
}

std::string fmt4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

}  // namespace

void SupervisedOptions::validate() const {
  if (epochs < 1 || epochs > 100000) throw InputError("--epochs must be in [1, 100000]");
  if (batch < 1 || batch > 100000) throw InputError("--batch must be in [1, 100000]");
  if (!(lr > 0) || !std::isfinite(lr)) throw InputError("--lr must be > 0");
  if (optimizer != "adam" && optimizer != "rmsprop") throw InputError("--optimizer must be adam or rmsprop, not " + optimizer);
  if (train_limit < 0) throw InputError("--train-examples must be >= 0");
}

nlohmann::json SupervisedOptions::to_json() const {
  return {{"epochs", epochs}, {"batch", batch}, {"lr", lr}, {"optimizer", optimizer}, {"train_limit", train_limit},
          {"seed", seed}};
}

SupervisedOptions SupervisedOptions::from_json(const nlohmann::json& j) {
  SupervisedOptions o;
  try {
    o.epochs = j.at("epochs").get<int>();
    o.batch = j.at("batch").get<int>();
    o.lr = j.at("lr").get<double>();
    o.optimizer = j.at("optimizer").get<std::string>();
    o.train_limit = j.at("train_limit").get<long>();
    o.seed = j.at("seed").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the training options in the config are incomplete: ") + e.what());
  }
  o.validate();
  return o;
}

double train_step(SupervisedState& st, const tasks::ImageSplit& data, const std::vector<long>& rows, double* correct) {
  const ad::Index b = static_cast<ad::Index>(rows.size());
  ad::Mat xb(b, data.x.cols());
  std::vector<int> yb(rows.size());
  for (ad::Index i = 0; i < b; ++i) {
    xb.row(i) = data.x.row(rows[std::size_t(i)]);
    yb[std::size_t(i)] = data.labels[std::size_t(rows[std::size_t(i)])];
  }
  std::vector<ad::Var> vars, trainable;
  std::vector<Eigen::MatrixXd*> targets;
  for (auto& p : st.model.params) {
    if (p.trainable) {
      vars.push_back(ad::param(p.value));
      trainable.push_back(vars.back());
      targets.push_back(&p.value);
    } else {
      vars.push_back(ad::constant(p.value));
    }
  }
  const ad::Var logits = st.model.forward(vars, xb);
  const ad::Var loss = ad::softmax_cross_entropy(logits, yb);
  const double l = loss.item();
  if (!std::isfinite(l))
    throw RunError("the loss became " + std::string(std::isnan(l) ? "NaN" : "infinite") + " at epoch " +
                   std::to_string(st.epoch + 1) + ", batch " + std::to_string(st.batch + 1));
  const std::vector<ad::Var> g = ad::grad(loss, trainable);
  std::vector<Eigen::MatrixXd> grads;
  for (const auto& v : g) grads.push_back(v.value());
  if (st.options.optimizer == "adam") {
    st.opt.lr = st.options.lr;
    st.opt.update(targets, grads);
  } else {
    rmsprop_update(st.opt, targets, grads, st.options.lr);
  }
  if (correct) *correct += static_cast<double>(count_correct(logits.value(), yb));
  return l;
}

SupervisedStatus train_classifier(SupervisedState& st, const tasks::ImageSplit& train, const SupervisedHooks& hooks) {
  const long n = train.size();
  const long bs = st.options.batch;
  const long batches = (n + bs - 1) / bs;
  while (st.epoch < st.options.epochs) {
    const std::vector<long> order = epoch_order(st.options.seed, st.epoch, n);
    while (st.batch < batches) {
      if (hooks.stop && hooks.stop->load()) return SupervisedStatus::interrupted;
      const long first = st.batch * bs, count = std::min(bs, n - first);
      const std::vector<long> rows(order.begin() + first, order.begin() + first + count);
      double correct = 0;
      const double loss = train_step(st, train, rows, &correct);
      st.log.step_loss.push_back(loss);
      st.run_loss += loss * double(count);
      st.run_correct += correct;
      st.run_seen += double(count);
      ++st.batch;
      if (hooks.on_batch) hooks.on_batch(st, batches);
      if (st.batch < batches && hooks.checkpoint_every > 0 && st.batch % hooks.checkpoint_every == 0 &&
          hooks.on_checkpoint)
        hooks.on_checkpoint(st);
    }
    st.log.epoch_loss.push_back(st.run_loss / st.run_seen);
    st.log.epoch_accuracy.push_back(st.run_correct / st.run_seen);
    st.run_loss = st.run_correct = st.run_seen = 0;
    st.batch = 0;
    ++st.epoch;
    if (hooks.on_epoch) hooks.on_epoch(st);
  }
  return SupervisedStatus::done;
}

ClassifierEval evaluate_classifier(const models::ImageModel& model, const tasks::ImageSplit& data, int batch) {
  ClassifierEval r;
  const int k = model.arch.classes;
  r.confusion = Eigen::MatrixXi::Zero(k, k);
  double loss = 0;
  for (long first = 0; first < data.size(); first += batch) {
    const long count = std::min<long>(batch, data.size() - first);
    const ad::Mat logits = model.logits(data.x.middleRows(first, count));
    for (long i = 0; i < count; ++i) {
      ad::Index best;
      logits.row(i).maxCoeff(&best);
      const int y = data.labels[std::size_t(first + i)];
      r.confusion(y, static_cast<int>(best)) += 1;
      const double mx = logits.row(i).maxCoeff();
      loss += mx + std::log((logits.row(i).array() - mx).exp().sum()) - logits(i, y);
    }
  }
  r.n = data.size();
  r.accuracy = r.n ? double(r.confusion.trace()) / double(r.n) : 0.0;
  r.loss = r.n ? loss / double(r.n) : 0.0;
  return r;
}

namespace {

void check_fits(const models::ImageArch& a, const tasks::ImageSplit& d, const std::string& file) {
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
  if (io::is_stdio(o.output) && isatty(STDOUT_FILENO))
    throw InputError("<stdout>: is a terminal; refusing to write binary HDF5 there (use -o FILE or a pipe)");
  io::Reader tasks_file(o.tasks_path, "tasks");
  const DatasetRecord dataset{o.tasks_path, tasks_file.sha256(),
                              tasks_file.has_attr("/", "kind") ? tasks_file.attr_string("/", "kind") : ""};
  SupervisedState st;
  if (!o.resume.empty()) {
    io::Reader ck(o.resume, "model");
    LoadedClassifier loaded = load_classifier(ck);
    if (!loaded.dataset.sha256.empty() && loaded.dataset.sha256 != dataset.sha256)
      throw InputError(tasks_file.name() + ": is not the dataset " + o.resume + " was trained on (SHA-256 differs)");
    st = std::move(loaded.state);
    if (o.epochs_given) st.options.epochs = o.train.epochs;
  } else {
    st.options = o.train;
  }
  const tasks::ImageSplit train = tasks::load_image_split(tasks_file, "/train", st.options.train_limit);
  if (o.resume.empty()) {
    models::ImageArch arch = o.arch;
    arch.height = train.height;
    arch.width = train.width;
    arch.channels = train.channels;
    arch.classes = train.classes;
    arch.validate();
    Rng rng(st.options.seed, 0);
    st.model = models::ImageModel::init(arch, rng);
  }
  check_fits(st.model.arch, train, tasks_file.name());

  const bool default_checkpoint = o.checkpoint.empty();
  const std::string checkpoint = !default_checkpoint ? o.checkpoint
                                 : io::is_stdio(o.output) ? std::string()
                                                          : o.output + ".ckpt";
  g_stop.store(false);
  std::signal(SIGINT, classifier_request_stop);
  std::signal(SIGTERM, classifier_request_stop);
  long last_checkpoint_epoch = -1, last_checkpoint_batch = -1;
  auto write_checkpoint = [&](const SupervisedState& s) {
    if (checkpoint.empty()) return;
    save_classifier(checkpoint, cli::created_by("meta-train"), s, dataset);
    last_checkpoint_epoch = s.epoch;
    last_checkpoint_batch = s.batch;
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
    if (!o.quiet && !isatty(STDERR_FILENO))
      std::cerr << "meta-train: " << kind << " epoch " << s.epoch << "/" << s.options.epochs << " loss "
                << fmt4(s.log.epoch_loss.back()) << " accuracy " << fmt4(s.log.epoch_accuracy.back()) << std::endl;
  };
  hooks.on_checkpoint = write_checkpoint;
  hooks.checkpoint_every = o.checkpoint_every;
  hooks.stop = &g_stop;

  const long first_steps = static_cast<long>(st.log.step_loss.size());
  const auto train_start = std::chrono::steady_clock::now();
  SupervisedStatus status;
  try {
    status = train_classifier(st, train, hooks);
  } catch (const RunError& e) {
    if (bar) bar->finish();
    const std::string kept = last_checkpoint_epoch >= 0
                                 ? "; the last good checkpoint (epoch " + std::to_string(last_checkpoint_epoch) +
                                       ", batch " + std::to_string(last_checkpoint_batch) + ") is " + checkpoint
                                 : "; no checkpoint was written";
    throw RunError(e.what() + kept);
  }
  if (bar) bar->finish();
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  const std::string where = "epoch " + std::to_string(st.epoch) + ", batch " + std::to_string(st.batch);
  if (status == SupervisedStatus::interrupted) {
    if (checkpoint.empty())
      throw ExitRequest(130, "interrupted at " + where + "; no checkpoint written (give --checkpoint FILE or -o FILE)");
    write_checkpoint(st);
    throw ExitRequest(130, "interrupted at " + where + "; checkpoint written to " + checkpoint + " (continue with --resume " +
                               checkpoint + ")");
  }
  save_classifier(o.output, cli::created_by("meta-train"), st, dataset);
  if (default_checkpoint && !checkpoint.empty()) std::remove(checkpoint.c_str());

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
      {"peak_rss_mib", cli::peak_rss_mib()},
      {"output", o.output}};
  if (!o.quiet) {
    char line[256];
    std::snprintf(line, sizeof line, "meta-train: %s, %ld parameters, %ld epochs in %.1f s, final train loss %s, accuracy %s",
                  kind.c_str(), st.model.count(), st.epoch, train_secs, fmt4(summary["train_loss"].get<double>()).c_str(),
                  fmt4(summary["train_accuracy"].get<double>()).c_str());
    std::cerr << line << std::endl;
  }
  return summary;
}

bool is_image_model(const io::Reader& f) {
  return f.has_attr("/", "model") && models::is_image_kind(f.attr_string("/", "model"));
}

bool is_image_model_file(const std::string& path) {
  if (io::is_stdio(path)) return false;
  io::Reader f(path, "model");
  return is_image_model(f);
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

}  // namespace symlearn::learn
