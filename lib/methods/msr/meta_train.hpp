// The outer loop of meta-training: sample a meta-batch of tasks, run their
// episodes in parallel, average the meta-gradients in task order (so results
// do not depend on the thread count), update with Adam or SGD; validate on
// held-out training tasks; checkpoint; stop cleanly on request or on a
// non-finite loss.
#pragma once

#include "learn/adam.hpp"
#include "learn/precision.hpp"
#include "methods/msr/maml.hpp"
#include "methods/msr/models.hpp"
#include "methods/msr/regularize.hpp"
#include "tasks/dataset.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace symlearn::msr {

struct MetaTrainOptions {
  long steps = 1000;
  int meta_batch = 32;
  int support = 1, query = 19;
  double outer_lr = 1e-3;
  std::string outer_opt = "adam";  // adam | sgd
  InnerLoop inner;
  long val_tasks = 200;  // the last tasks of /train, never trained on
  long val_every = 100;
  std::uint64_t seed = 0;
  // "auto": the fused msr-fc kernel where it applies (msr_fused.hpp), else
  // autodiff; "autodiff": always the general autodiff path.
  std::string engine = "auto";
  // Arithmetic of the fused kernel (the autodiff path is always float64).
  // Records written before this option existed trained in float64.
  learn::Precision precision = learn::Precision::float32;
  // After every outer update, U <- prox(U) with the outer learning rate as
  // the step (the sparse-MSR paper's Algorithm 1). With sgd that is proximal
  // gradient descent; with adam the step ignores Adam's per-entry scaling.
  bool use_prox = false;
  ProxOptions prox;
  long train_tasks = 0;  // use only the first N tasks of /train (0: all), validation included

  nlohmann::json to_json() const;
  static MetaTrainOptions from_json(const nlohmann::json& j);
  // The ranges every option must be in, whatever the data (a model file's record is checked so too).
  void check() const;
  void validate(const tasks::RegressionSplit& train) const;  // throws InputError
};

struct TrainLog {
  std::vector<double> train_loss;  // mean query loss of each step's meta-batch
  std::vector<std::int64_t> val_step;
  std::vector<double> val_loss;
};

// Everything a checkpoint holds: resuming from it continues bit-identically.
struct TrainState {
  msr::MetaModel model;
  MetaTrainOptions options;
  // Adam's state: in double (adam), or in float for float32 runs (adam32).
  learn::Adam adam;
  learn::AdamOf<float> adam32;
  long step = 0;  // outer steps done
  TrainLog log;
};

struct TrainHooks {
  // After every step: (steps done, this step's train loss, latest val loss or NaN).
  std::function<void(long, double, double)> on_step;
  // Asked to write a checkpoint of the state after `step` steps.
  std::function<void(const TrainState&)> on_checkpoint;
  long checkpoint_every = 0;  // 0: never
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to stop after the current step
};

enum class TrainStatus { finished, interrupted };

// Runs outer steps until state.step == state.options.steps. A non-finite loss
// throws RunError (the state keeps the last finite parameters).
TrainStatus meta_train(TrainState& state, const tasks::RegressionSplit& train, int threads, const TrainHooks& hooks);

// Mean query loss over the validation tasks (the last val_tasks of train).
double validation_loss(const msr::MetaModel& model, const MetaTrainOptions& opt,
                       const tasks::RegressionSplit& train, int threads);

// The tasks and rows of outer step `step`: a pure function of (seed, step).
struct BatchPlan {
  std::vector<long> tasks;
  std::vector<std::vector<int>> rows;
};
BatchPlan plan_batch(const MetaTrainOptions& opt, long train_tasks, int samples, long step);

}  // namespace symlearn::msr
