#include "methods/msr/meta_train.hpp"

#include "methods/msr/fused.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/rng.hpp"
#include "util/signals.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>

namespace symlearn::msr {

namespace {
constexpr std::uint64_t kBatchStream = 0x6d657461ULL << 20;  // distinct from init streams
}

nlohmann::json MetaTrainOptions::to_json() const {
  return {{"steps", steps},         {"meta_batch", meta_batch}, {"support", support},
          {"query", query},         {"outer_lr", outer_lr},     {"outer_opt", outer_opt},
          {"inner_steps", inner.steps}, {"first_order", inner.first_order}, {"val_tasks", val_tasks},
          {"val_every", val_every}, {"seed", seed}, {"engine", engine},
          {"precision", learn::precision_name(precision)},
          {"prox", use_prox ? prox.to_json() : nlohmann::json(nullptr)}, {"train_tasks", train_tasks}};
}

MetaTrainOptions MetaTrainOptions::from_json(const nlohmann::json& j) {
  MetaTrainOptions o;
  try {
    o.steps = j.at("steps").get<long>();
    o.meta_batch = j.at("meta_batch").get<int>();
    o.support = j.at("support").get<int>();
    o.query = j.at("query").get<int>();
    o.outer_lr = j.at("outer_lr").get<double>();
    o.outer_opt = j.at("outer_opt").get<std::string>();
    o.inner.steps = j.at("inner_steps").get<int>();
    o.inner.first_order = j.at("first_order").get<bool>();
    o.val_tasks = j.at("val_tasks").get<long>();
    o.val_every = j.at("val_every").get<long>();
    o.seed = j.at("seed").get<std::uint64_t>();
    o.engine = j.value("engine", std::string("auto"));
    o.precision = learn::precision_from_name(j.value("precision", std::string("float64")));
    o.train_tasks = j.value("train_tasks", 0L);
    if (j.contains("prox") && j["prox"].is_object()) {
      o.use_prox = true;
      o.prox = ProxOptions::from_json(j["prox"]);
    }
    o.check();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the training record is incomplete: ") + e.what());
  } catch (const InputError& e) {
    throw InputError(std::string("the training record is invalid: ") + e.what());
  }
  return o;
}

void MetaTrainOptions::check() const {
  auto bad = [](const std::string& m) { throw InputError(m); };
  if (steps < 0) bad("--steps must be >= 0");
  if (meta_batch < 1) bad("--meta-batch must be at least 1");
  if (support < 1 || query < 1) bad("--support and --query must be at least 1");
  if (!(outer_lr > 0) || !std::isfinite(outer_lr)) bad("--outer-lr must be a positive number");
  if (outer_opt != "adam" && outer_opt != "sgd") bad("--outer-opt must be adam or sgd");
  if (inner.steps < 0 || inner.steps > 1000) bad("--inner-steps must be in [0, 1000]");
  if (val_tasks < 0) bad("--val-tasks must be >= 0");
  if (val_every < 1) bad("--val-every must be at least 1");
  if (engine != "auto" && engine != "autodiff") bad("--engine must be auto or autodiff");
  if (train_tasks < 0) bad("--train-tasks must be >= 0");
  if (use_prox && (!(prox.spec.lambda >= 0) || !std::isfinite(prox.spec.lambda)))
    bad("--prox-lambda must be a finite number >= 0");
}

void MetaTrainOptions::validate(const tasks::RegressionSplit& train) const {
  auto bad = [](const std::string& m) { throw InputError(m); };
  check();
  if (support + query > train.samples)
    bad("--support " + std::to_string(support) + " + --query " + std::to_string(query) + " exceeds the " +
        std::to_string(train.samples) + " examples per task of " + train.file);
  if (train_tasks > train.tasks)
    bad("--train-tasks " + std::to_string(train_tasks) + " is not between 0 and the " + std::to_string(train.tasks) +
        " tasks of /train");
  const long used = train_tasks > 0 ? train_tasks : train.tasks;
  if (used - val_tasks < meta_batch)
    bad(std::to_string(used) + " training tasks are too few for --val-tasks " + std::to_string(val_tasks) +
        " plus a meta-batch of " + std::to_string(meta_batch));
}

BatchPlan plan_batch(const MetaTrainOptions& opt, long train_tasks, int samples, long step) {
  Rng rng(opt.seed, kBatchStream + static_cast<std::uint64_t>(step));
  BatchPlan plan;
  // Distinct tasks within a batch (rejection is cheap: batches are small).
  while (static_cast<int>(plan.tasks.size()) < opt.meta_batch) {
    const long t = static_cast<long>(rng.below(static_cast<std::uint64_t>(train_tasks)));
    bool seen = false;
    for (long u : plan.tasks) seen = seen || u == t;
    if (!seen) plan.tasks.push_back(t);
  }
  // A fresh random support/query split of each task's examples.
  const int need = opt.support + opt.query;
  for (std::size_t i = 0; i < plan.tasks.size(); ++i) {
    std::vector<int> rows(samples);
    std::iota(rows.begin(), rows.end(), 0);
    for (int k = 0; k < need; ++k) std::swap(rows[k], rows[k + static_cast<int>(rng.below(samples - k))]);
    rows.resize(need);
    plan.rows.push_back(std::move(rows));
  }
  return plan;
}

double validation_loss(const msr::MetaModel& model, const MetaTrainOptions& opt,
                       const tasks::RegressionSplit& train, int threads) {
  if (opt.val_tasks == 0) return std::numeric_limits<double>::quiet_NaN();
  const long first = (opt.train_tasks > 0 ? opt.train_tasks : train.tasks) - opt.val_tasks;
  std::vector<int> rows(opt.support + opt.query);
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<double> losses(opt.val_tasks);
  parallel_for(opt.val_tasks, threads, [&](long i) {
    const tasks::Episode e = tasks::make_episode(train, first + i, rows, opt.support, opt.query);
    losses[i] = run_episode(model, opt.inner, e, false).query_loss;
  });
  double sum = 0;
  for (double l : losses) sum += l;  // in task order: independent of threads
  return sum / static_cast<double>(losses.size());
}

namespace {
// One meta-batch through the general autodiff, averaged in task order so the
// sum is the same for any thread count.
BatchResult autodiff_step(const msr::MetaModel& model, const MetaTrainOptions& opt,
                          const tasks::RegressionSplit& train, const BatchPlan& plan, int threads) {
  std::vector<EpisodeResult> results(plan.tasks.size());
  parallel_for(static_cast<long>(plan.tasks.size()), threads, [&](long i) {
    const tasks::Episode e = tasks::make_episode(train, plan.tasks[i], plan.rows[i], opt.support, opt.query);
    results[i] = run_episode(model, opt.inner, e, true);
  });
  BatchResult r;
  r.mean_grads = results[0].grads;
  r.mean_loss = results[0].query_loss;
  for (std::size_t i = 1; i < results.size(); ++i) {
    r.mean_loss += results[i].query_loss;
    for (std::size_t k = 0; k < r.mean_grads.size(); ++k) r.mean_grads[k] += results[i].grads[k];
  }
  const double inv = 1.0 / static_cast<double>(results.size());
  r.mean_loss *= inv;
  for (auto& g : r.mean_grads) g *= inv;
  return r;
}

template <class S>
BatchResultOf<S> fused_step(const msr::MetaModel& model, const MetaTrainOptions& opt,
                            const tasks::RegressionSplit& train, const BatchPlan& plan, int threads) {
  return msr_fused_batch<S>(
      model, opt.inner, static_cast<long>(plan.tasks.size()),
      [&](long i) { return tasks::make_episode_as<S>(train, plan.tasks[i], plan.rows[i], opt.support, opt.query); },
      threads);
}
// Checks the batch and applies the outer update: Adam in the gradient's own
// precision (float32 runs keep their moments in float), or plain SGD.
template <class S>
double outer_update(TrainState& st, std::vector<ad::Mat*>& targets, const BatchResultOf<S>& batch, int threads) {
  const MetaTrainOptions& opt = st.options;
  const double loss = batch.mean_loss;
  bool finite = std::isfinite(loss);
  for (const auto& g : batch.mean_grads) finite = finite && g.allFinite();
  if (!finite)
    throw RunError("the meta-training loss became " + std::string(std::isnan(loss) ? "NaN" : "non-finite") +
                   " at step " + std::to_string(st.step + 1) + " (try a smaller --outer-lr or --inner-lr)");
  if (opt.outer_opt == "adam") {
    if constexpr (std::is_same_v<S, float>) {
      st.adam32.lr = opt.outer_lr;
      st.adam32.update(targets, batch.mean_grads, threads);
    } else {
      st.adam.lr = opt.outer_lr;
      st.adam.update(targets, batch.mean_grads, threads);
    }
  } else {
    std::vector<ad::Mat> grads;
    for (const auto& g : batch.mean_grads) grads.push_back(g.template cast<double>());
    learn::sgd_update(targets, grads, opt.outer_lr);
  }
  return loss;
}
}  // namespace

TrainStatus meta_train(TrainState& st, const tasks::RegressionSplit& train, int threads, const TrainHooks& hooks) {
  const MetaTrainOptions& opt = st.options;
  opt.validate(train);
  const long trainable = (opt.train_tasks > 0 ? opt.train_tasks : train.tasks) - opt.val_tasks;
  std::optional<Regularizer> regularizer;
  if (opt.use_prox) regularizer.emplace(st.model, opt.prox);
  const bool fused = opt.engine == "auto" && fused_supported(st.model, opt.inner);
  if (st.model.arch.ridge() && !fused)
    throw InputError("--inner-solver ridge runs on the fused kernel only (not with --engine autodiff)");
  if (st.model.arch.ridge() && opt.inner.first_order)
    throw InputError("--first-order is MAML's (--inner-solver sgd); the ridge meta-gradient is exact");
  if (!fused) st.options.precision = learn::Precision::float64;  // what the autodiff path computes in, on record
  double last_val = st.log.val_loss.empty() ? std::numeric_limits<double>::quiet_NaN() : st.log.val_loss.back();
  std::vector<ad::Mat*> targets;
  for (auto& p : st.model.params) targets.push_back(&p.value);

  while (st.step < opt.steps) {
    if (hooks.stop && hooks.stop->load()) return TrainStatus::interrupted;
    signal_point("step:" + std::to_string(st.step + 1));
    const BatchPlan plan = plan_batch(opt, trainable, train.samples, st.step);
    const double loss = !fused ? outer_update(st, targets, autodiff_step(st.model, opt, train, plan, threads), threads)
                        : opt.precision == learn::Precision::float32
                            ? outer_update(st, targets, fused_step<float>(st.model, opt, train, plan, threads), threads)
                            : outer_update(st, targets, fused_step<double>(st.model, opt, train, plan, threads), threads);
    if (regularizer) regularizer->apply(st.model, opt.outer_lr);
    ++st.step;
    st.log.train_loss.push_back(loss);
    if (st.step % opt.val_every == 0 || st.step == opt.steps) {
      last_val = validation_loss(st.model, opt, train, threads);
      if (opt.val_tasks > 0) {
        st.log.val_step.push_back(st.step);
        st.log.val_loss.push_back(last_val);
      }
    }
    if (hooks.on_step) hooks.on_step(st.step, loss, last_val);
    if (hooks.on_checkpoint && hooks.checkpoint_every > 0 && st.step % hooks.checkpoint_every == 0 &&
        st.step < opt.steps)
      hooks.on_checkpoint(st);
  }
  return TrainStatus::finished;
}

}  // namespace symlearn::msr
