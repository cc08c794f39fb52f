#include "methods/lgn/train.hpp"

#include "util/error.hpp"
#include "util/rng.hpp"
#include "util/signals.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace symlearn::lgn {

namespace {

// Classification: cross-entropy; reconstruction: PyTorch's MSELoss (mean over every entry).
ad::Var data_loss(const LgnModel& m, const ad::Var& out, const ad::Var& x, const std::vector<int>& labels) {
  return m.arch.reconstruction() ? ad::mse_loss(out, x) : ad::softmax_cross_entropy(out, labels);
}

long correct(const Mat& logits, const std::vector<int>& labels) {
  long n = 0;
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    Eigen::Index j;
    logits.row(i).maxCoeff(&j);
    n += j == labels[std::size_t(i)];
  }
  return n;
}

std::vector<long> epoch_order(const TrainOptions& o, long epoch, long n) {
  std::vector<long> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0L);
  Rng rng(o.seed, 1000 + std::uint64_t(epoch));  // a function of (seed, epoch): resuming mid-epoch sees the same order
  for (long i = n - 1; i > 0; --i) std::swap(order[std::size_t(i)], order[rng.below(std::uint64_t(i + 1))]);
  return order;
}

}  // namespace

void TrainOptions::validate() const {
  if (epochs < 1 || epochs > 100000) throw InputError("--epochs must be in [1, 100000]");
  if (batch < 1 || batch > 65536) throw InputError("--batch must be in [1, 65536]");
  if (!(lr > 0) || !std::isfinite(lr)) throw InputError("--lr must be a positive number");
  if (!(clip >= 0) || !std::isfinite(clip)) throw InputError("--clip must be >= 0 (0: no clipping)");
  if (!(mu >= 0) || !std::isfinite(mu)) throw InputError("--mu must be >= 0");
  if (a_projection != "fro" && a_projection != "none") throw InputError("--a-projection must be fro or none");
  if (!(whiten_epsilon >= 0) || !std::isfinite(whiten_epsilon)) throw InputError("--whiten-epsilon must be >= 0");
  if (train_limit < 0) throw InputError("--train-limit must be >= 0");
}

nlohmann::json TrainOptions::to_json() const {
  return {{"epochs", epochs}, {"batch", batch},   {"lr", lr},
          {"clip", clip},     {"mu", mu},         {"a_projection", a_projection},
          {"whiten", whiten}, {"whiten_epsilon", whiten_epsilon}, {"train_limit", train_limit},
          {"seed", seed},     {"optimizer", "adam"}, {"lr_schedule", "halved at int(E/2), int(3E/4), int(7E/8)"}};
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  TrainOptions o;
  try {
    o.epochs = j.at("epochs").get<int>();
    o.batch = j.at("batch").get<long>();
    o.lr = j.at("lr").get<double>();
    o.clip = j.at("clip").get<double>();
    o.mu = j.at("mu").get<double>();
    o.a_projection = j.at("a_projection").get<std::string>();
    o.whiten = j.at("whiten").get<bool>();
    o.whiten_epsilon = j.at("whiten_epsilon").get<double>();
    o.train_limit = j.at("train_limit").get<long>();
    o.seed = j.at("seed").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("its training record is incomplete (") + e.what() + ")");
  }
  o.validate();
  return o;
}

double learning_rate(const TrainOptions& o, long epoch) {
  double lr = o.lr;
  for (long m : {long(o.epochs / 2), long(3 * o.epochs / 4), long(7 * o.epochs / 8)})
    if (epoch >= m) lr /= 2;
  return lr;
}

Status train(TrainState& st, const ImageRows& x, const std::vector<int>& labels, const Hooks& hooks) {
  LgnModel& m = st.model;
  const long n = x.rows(), b = st.options.batch, batches = (n + b - 1) / b;
  const Projection projection{st.options.a_projection == "fro"};
  std::map<long, BatchMaps> cache;
  const int channels = m.arch.channels;
  for (; st.epoch < st.options.epochs; ++st.epoch) {
    const std::vector<long> order = epoch_order(st.options, st.epoch, n);
    st.opt.lr = learning_rate(st.options, st.epoch);
    for (; st.batch < batches; ++st.batch) {
      signal_point("step:" + std::to_string(st.step_loss.size() + 1));
      if (hooks.stop && hooks.stop->load()) return Status::interrupted;
      const long first = st.batch * b, size = std::min(b, n - first);
      ImageRows xb(size, x.cols());
      std::vector<int> yb(static_cast<std::size_t>(size));
      for (long i = 0; i < size; ++i) {
        xb.row(i) = x.row(order[std::size_t(first + i)]);
        if (!labels.empty()) yb[std::size_t(i)] = labels[std::size_t(order[std::size_t(first + i)])];
      }
      const auto named = m.trainable();
      std::vector<ad::Var> params;
      for (auto& [name, p] : named) params.push_back(ad::param(*p));
      const ad::Var input = ad::constant(image_rows(xb, 0, size, channels));
      const ForwardOut out = forward(m, params, input, size, true, st.options.mu, cache, true);
      const ad::Var loss = data_loss(m, out.output, input, yb);
      const ad::Var total = ad::add(loss, out.penalty);
      if (!std::isfinite(total.item()))
        throw RunError("the loss became " + std::to_string(total.item()) + " at epoch " + std::to_string(st.epoch + 1) +
                       ", batch " + std::to_string(st.batch + 1) + " (try a smaller --lr)");
      const std::vector<ad::Var> grads = ad::grad(total, params);
      std::vector<Mat> g;
      double norm2 = 0;
      for (const ad::Var& v : grads) {
        g.push_back(v.value());
        norm2 += g.back().squaredNorm();
      }
      // clip_grad_norm_: scale every gradient by clip / (norm + 1e-6) when the norm exceeds clip.
      const double norm = std::sqrt(norm2);
      if (st.options.clip > 0 && norm > st.options.clip)
        for (Mat& gi : g) gi *= st.options.clip / (norm + 1e-6);
      std::vector<Mat*> ptrs;
      for (auto& [name, p] : named) ptrs.push_back(p);
      st.opt.update(ptrs, g);
      project(m, projection);

      st.step_loss.push_back(total.item());
      st.run_loss += loss.item() * double(size);
      st.run_penalty += out.penalty.item() * double(size);
      if (!m.arch.reconstruction()) st.run_correct += double(correct(out.output.value(), yb));
      st.run_seen += double(size);
      if (hooks.on_batch) hooks.on_batch(st, batches);
    }
    st.epoch_loss.push_back(st.run_loss / st.run_seen);
    st.epoch_penalty.push_back(st.run_penalty / st.run_seen);
    if (!m.arch.reconstruction()) st.epoch_accuracy.push_back(st.run_correct / st.run_seen);
    st.batch = 0;
    st.run_loss = st.run_penalty = st.run_correct = st.run_seen = 0;
    if (hooks.on_epoch) {
      ++st.epoch;  // the hook sees the epoch as done
      hooks.on_epoch(st);
      --st.epoch;
    }
  }
  return Status::finished;
}

Evaluation evaluate(LgnModel& m, const ImageRows& x, const std::vector<int>& labels, long batch) {
  ad::NoGradGuard guard;
  std::map<long, BatchMaps> cache;
  std::vector<ad::Var> params;
  for (auto& [name, p] : m.trainable()) params.push_back(ad::constant(*p));
  Evaluation e;
  double loss = 0, right = 0;
  for (long first = 0; first < x.rows(); first += batch) {
    const long size = std::min(batch, long(x.rows()) - first);
    const ad::Var input = ad::constant(image_rows(x, first, size, m.arch.channels));
    std::vector<int> yb;
    if (!m.arch.reconstruction()) yb.assign(labels.begin() + first, labels.begin() + first + size);
    const ForwardOut out = forward(m, params, input, size, false, 0, cache, false);
    loss += data_loss(m, out.output, input, yb).item() * double(size);
    if (!m.arch.reconstruction()) right += double(correct(out.output.value(), yb));
  }
  e.n = x.rows();
  e.loss = e.n ? loss / double(e.n) : 0;
  e.accuracy = e.n ? right / double(e.n) : 0;
  return e;
}

// ---- the model file ---------------------------------------------------------------

void save_state(const std::string& target, const std::string& created_by, TrainState& st,
                const learn::DatasetRecord& dataset) {
  LgnModel& m = st.model;
  const nlohmann::json config = {
      {"model", m.arch.to_json()},
      {"training", st.options.to_json()},
      {"seed", st.options.seed},
      {"epochs_done", st.epoch},
      {"batches_done_in_epoch", st.batch},
      {"running", {{"loss", st.run_loss}, {"penalty", st.run_penalty}, {"correct", st.run_correct}, {"seen", st.run_seen}}},
      {"whitening",
       {{"mean", m.whitening.mean}, {"std", m.whitening.std}, {"epsilon", m.whitening.epsilon},
        {"applied", !m.whitening.empty()}}},
      {"parameters", m.count()}};
  learn::ModelWriter w(target, created_by, m.arch.kind, config, dataset);
  w.root_attr("parameters", m.count());
  for (auto& [name, p] : m.trainable()) {
    const bool symmetry = name.find("_action_") != std::string::npos && name.find("_inv_") == std::string::npos;
    w.param(name, symmetry ? learn::Role::symmetry : learn::Role::weights, *p);
    if (symmetry) w.attr(name, "vec", std::string("row-major"));
  }
  for (std::size_t l = 0; l < m.layers.size(); ++l)
    if (m.layers[l].bn_mean.size()) {
      w.param("layer" + std::to_string(l) + "_bn_running_mean", learn::Role::weights, m.layers[l].bn_mean);
      w.param("layer" + std::to_string(l) + "_bn_running_var", learn::Role::weights, m.layers[l].bn_var);
    }
  if (!m.whitening.empty()) {
    w.param("whiten_centre", learn::Role::weights, Mat(m.whitening.centre));
    w.param("whiten_zca", learn::Role::weights, m.whitening.zca);
  }
  w.log("step_loss", st.step_loss);
  w.log("epoch_loss", st.epoch_loss);
  w.log("epoch_penalty", st.epoch_penalty);
  if (!st.epoch_accuracy.empty()) w.log("epoch_accuracy", st.epoch_accuracy);
  w.log_description("step_loss: the loss with the action penalty per mini-batch; epoch_loss: mean data loss "
                    "(cross-entropy, or MSE for lgn-recon) over each epoch; epoch_penalty: mean action penalty; "
                    "epoch_accuracy: training accuracy over each epoch (classification)");
  if (st.opt.step > 0) {
    w.optimizer_step(st.opt.step);
    std::size_t k = 0;
    for (auto& [name, p] : m.trainable()) {
      if (k < st.opt.m.size()) {
        w.moment("m", name, st.opt.m[k]);
        w.moment("v", name, st.opt.v[k]);
      }
      ++k;
    }
  }
  w.commit();
}

TrainState load_state(const io::Reader& f) {
  const learn::ModelReader r(f);
  TrainState st;
  try {
    st.model.arch = LgnArch::from_json(r.section("model"));
    st.options = TrainOptions::from_json(r.section("training"));
  } catch (const InputError& e) {
    r.fail(e.what());
  }
  if (st.model.arch.kind != r.model()) r.fail("its config describes a " + st.model.arch.kind + " model, its model attribute " + r.model());
  LgnModel fresh = LgnModel::init(st.model.arch, 0);  // the shapes to read
  st.model = std::move(fresh);
  LgnModel& m = st.model;
  for (auto& [name, p] : m.trainable()) {
    const bool symmetry = name.find("_action_") != std::string::npos && name.find("_inv_") == std::string::npos;
    *p = r.param(name, symmetry ? learn::Role::symmetry : learn::Role::weights, p->rows(), p->cols());
    if (!p->allFinite()) r.fail("/params/" + name + " holds NaN or infinite values");
  }
  for (std::size_t l = 0; l < m.layers.size(); ++l)
    if (m.layers[l].bn_mean.size()) {
      const long f = m.arch.filters();
      m.layers[l].bn_mean = r.param("layer" + std::to_string(l) + "_bn_running_mean", learn::Role::weights, 1, f);
      m.layers[l].bn_var = r.param("layer" + std::to_string(l) + "_bn_running_var", learn::Role::weights, 1, f);
      if (!m.layers[l].bn_mean.allFinite() || !(m.layers[l].bn_var.array() >= 0).all())
        r.fail("its batch-norm running statistics are not finite and non-negative");
    }
  const nlohmann::json& wj = r.section("whitening");
  if (wj.value("applied", false)) {
    const long dpx = long(m.arch.height) * m.arch.width * m.arch.channels;
    m.whitening.mean = wj.value("mean", 0.0);
    m.whitening.std = wj.value("std", 1.0);
    m.whitening.epsilon = wj.value("epsilon", 0.0);
    m.whitening.centre = r.param("whiten_centre", learn::Role::weights, 1, dpx);
    m.whitening.zca = r.param("whiten_zca", learn::Role::weights, dpx, dpx);
    if (!m.whitening.zca.allFinite() || !m.whitening.centre.allFinite() || !std::isfinite(m.whitening.mean) ||
        !(m.whitening.std > 0))
      r.fail("its whitening transform is not finite");
  }
  const nlohmann::json& run = r.config().value("running", nlohmann::json::object());
  st.epoch = r.value("epochs_done", 0);
  st.batch = r.value("batches_done_in_epoch", 0);
  st.run_loss = run.value("loss", 0.0);
  st.run_penalty = run.value("penalty", 0.0);
  st.run_correct = run.value("correct", 0.0);
  st.run_seen = run.value("seen", 0.0);
  st.step_loss = r.log("step_loss");
  st.epoch_loss = r.log("epoch_loss");
  st.epoch_penalty = r.log("epoch_penalty");
  st.epoch_accuracy = r.log("epoch_accuracy");
  if (st.epoch < 0 || st.batch < 0 || st.epoch > st.options.epochs) r.fail("its training position is out of range");
  st.opt.step = r.optimizer_step();
  st.opt.lr = st.options.lr;
  if (st.opt.step > 0)
    for (auto& [name, p] : m.trainable()) {
      st.opt.m.push_back(r.moment("m", name, p->rows(), p->cols()));
      st.opt.v.push_back(r.moment("v", name, p->rows(), p->cols()));
    }
  return st;
}

}  // namespace symlearn::lgn
