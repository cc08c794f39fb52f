#include "methods/images/train.hpp"

#include "cli/cli.hpp"
#include "io/h5.hpp"
#include "methods/images/backprop.hpp"
#include "methods/images/model_io.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/rng.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

namespace symlearn::images {

namespace {

// The shuffled order of an epoch: a function of (seed, epoch) only.
std::vector<long> epoch_order(std::uint64_t seed, long epoch, long n) {
  Rng rng(seed, 0x5000000 + std::uint64_t(epoch));
  std::vector<long> o(n);
  for (long i = 0; i < n; ++i) o[i] = i;
  for (long i = n - 1; i > 0; --i) std::swap(o[i], o[rng.below(std::uint64_t(i) + 1)]);
  return o;
}

template <class S>
void rmsprop_update(learn::AdamOf<S>& s, std::vector<Eigen::MatrixXd*>& params, const std::vector<MatOf<S>>& grads,
                    double lr) {
  const S rho = S(0.9), eps = S(1e-7), rate = static_cast<S>(lr);
  if (s.v.empty())
    for (const auto& g : grads) s.v.push_back(MatOf<S>::Zero(g.rows(), g.cols()));
  ++s.step;
  for (std::size_t i = 0; i < params.size(); ++i) {
    s.v[i] = rho * s.v[i] + (S(1) - rho) * grads[i].cwiseProduct(grads[i]);
    params[i]->array() -= (rate * grads[i].array() / (s.v[i].array().sqrt() + eps)).template cast<double>();
  }
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
  return {{"epochs", epochs},           {"batch", batch}, {"lr", lr}, {"optimizer", optimizer},
          {"train_limit", train_limit}, {"seed", seed},   {"precision", learn::precision_name(precision)}};
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
    // Records written before --precision existed trained in float64.
    o.precision = learn::precision_from_name(j.value("precision", std::string("float64")));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the training options in the config are incomplete: ") + e.what());
  }
  o.validate();
  return o;
}

namespace {
// One mini-batch in S: the forward and backward passes of its slices (on up
// to `threads` threads), their losses and gradients summed in slice order so
// that the result does not depend on the thread count. Returns the loss; the
// gradient (trainable params in order) goes to *grads.
template <class S>
double backprop_batch(const ImageModel& model, const tasks::ImageSplit& data, const std::vector<long>& rows,
                      int threads, std::vector<MatOf<S>>* grads, double* correct) {
  const long b = static_cast<long>(rows.size());
  const long slices = std::min(kBatchSlices, b);
  const Weights<S> weights(model);
  std::vector<SliceResult<S>> parts(static_cast<std::size_t>(slices));
  parallel_for(slices, threads, [&](long s) {
    // Slice s: rows [first, last) of the batch; its loss is weighted by its share of the batch.
    const long first = b * s / slices, last = b * (s + 1) / slices;
    MatOf<S> xb(last - first, data.x.cols());
    std::vector<int> yb(std::size_t(last - first));
    for (long i = first; i < last; ++i) {
      xb.row(i - first) = data.x.row(rows[std::size_t(i)]).template cast<S>();
      yb[std::size_t(i - first)] = data.labels[std::size_t(rows[std::size_t(i)])];
    }
    parts[std::size_t(s)] = backprop_slice(weights, xb, yb, double(last - first) / double(b));
  });
  double loss = 0;
  for (const auto& part : parts) {
    loss += part.loss;
    if (correct) *correct += static_cast<double>(part.correct);
  }
  *grads = std::move(parts[0].grads);
  for (std::size_t s = 1; s < parts.size(); ++s)
    for (std::size_t k = 0; k < grads->size(); ++k) (*grads)[k] += parts[s].grads[k];
  return loss;
}
}  // namespace

namespace {
template <class S>
double train_step_as(SupervisedState& st, learn::AdamOf<S>& opt, const tasks::ImageSplit& data,
                     const std::vector<long>& rows, double* correct, int threads) {
  std::vector<MatOf<S>> grads;
  const double l = backprop_batch<S>(st.model, data, rows, threads, &grads, correct);
  if (!std::isfinite(l))
    throw RunError("the loss became " + std::string(std::isnan(l) ? "NaN" : "infinite") + " at epoch " +
                   std::to_string(st.epoch + 1) + ", batch " + std::to_string(st.batch + 1));
  std::vector<Eigen::MatrixXd*> targets;
  for (auto& p : st.model.params)
    if (p.trainable) targets.push_back(&p.value);
  if (st.options.optimizer == "adam") {
    opt.lr = st.options.lr;
    opt.update(targets, grads, threads);
  } else {
    rmsprop_update(opt, targets, grads, st.options.lr);
  }
  return l;
}
}  // namespace

double train_step(SupervisedState& st, const tasks::ImageSplit& data, const std::vector<long>& rows, double* correct,
                  int threads) {
  return st.options.precision == learn::Precision::float32
             ? train_step_as<float>(st, st.opt32, data, rows, correct, threads)
             : train_step_as<double>(st, st.opt, data, rows, correct, threads);
}

SupervisedStatus train_classifier(SupervisedState& st, const tasks::ImageSplit& train, const SupervisedHooks& hooks,
                                  int threads) {
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
      const double loss = train_step(st, train, rows, &correct, threads);
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
    const learn::Precision prec = st.options.precision;
    if (hooks.val) st.log.epoch_val_accuracy.push_back(evaluate_classifier(st.model, *hooks.val, 64, prec).accuracy);
    if (hooks.test) st.log.epoch_test_accuracy.push_back(evaluate_classifier(st.model, *hooks.test, 64, prec).accuracy);
    if (hooks.on_epoch) hooks.on_epoch(st);
  }
  return SupervisedStatus::done;
}

namespace {
template <class S>
ClassifierEval evaluate_as(const images::ImageModel& model, const tasks::ImageSplit& data, int batch) {
  ClassifierEval r;
  const int k = model.arch.classes;
  r.confusion = Eigen::MatrixXi::Zero(k, k);
  const Weights<S> weights(model);  // the hand-written forward pass
  double loss = 0;
  for (long first = 0; first < data.size(); first += batch) {
    const long count = std::min<long>(batch, data.size() - first);
    const ad::Mat logits = forward_logits<S>(weights, data.x.middleRows(first, count).cast<S>()).template cast<double>();
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
}  // namespace

ClassifierEval evaluate_classifier(const images::ImageModel& model, const tasks::ImageSplit& data, int batch,
                                   learn::Precision precision) {
  return precision == learn::Precision::float32 ? evaluate_as<float>(model, data, batch)
                                                : evaluate_as<double>(model, data, batch);
}

}  // namespace symlearn::images
