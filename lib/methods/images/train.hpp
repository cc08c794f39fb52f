// Plain supervised training of the image classifiers (methods/images/models):
// mini-batch cross-entropy with Adam or RMSprop, epochs over a shuffled
// training split, checkpoints at batch boundaries (an epoch's order depends
// only on the seed and the epoch, so a resumed run is bit-identical), and
// evaluation (accuracy, confusion matrix).
#pragma once

#include "io/h5.hpp"
#include "learn/adam.hpp"
#include "learn/precision.hpp"
#include "methods/images/models.hpp"
#include "tasks/images.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace symlearn::images {

struct SupervisedOptions {
  int epochs = 30;
  int batch = 32;
  double lr = 1e-3;
  std::string optimizer = "adam";  // adam | rmsprop
  long train_limit = 0;            // 0: every training image
  std::uint64_t seed = 0;
  // Arithmetic of the forward and backward passes (methods/images/backprop).
  learn::Precision precision = learn::Precision::float32;
  void validate() const;  // InputError
  nlohmann::json to_json() const;
  static SupervisedOptions from_json(const nlohmann::json& j);
};

struct SupervisedLog {
  std::vector<double> step_loss;                 // every mini-batch
  std::vector<double> epoch_loss, epoch_accuracy;  // running means over each epoch's batches
  // With a /val split: accuracy on /val and /test after every epoch (the
  // authors' protocol reports the best epoch's validation accuracy).
  std::vector<double> epoch_val_accuracy, epoch_test_accuracy;
};

struct SupervisedState {
  images::ImageModel model;
  SupervisedOptions options;
  long epoch = 0;           // epochs completed
  long batch = 0;           // batches completed in the current epoch
  double run_loss = 0, run_correct = 0, run_seen = 0;  // the current epoch so far
  // Adam moments; RMSprop uses v only (one per trainable parameter). A
  // float32 run keeps them in float (opt32), a float64 run in double (opt).
  learn::Adam opt;
  learn::AdamOf<float> opt32;
  SupervisedLog log;
};

struct SupervisedHooks {
  std::function<void(const SupervisedState&, long batches)> on_batch;
  std::function<void(const SupervisedState&)> on_epoch;  // after an epoch completes
  std::function<void(const SupervisedState&)> on_checkpoint;
  long checkpoint_every = 0;  // batches; 0: never
  const std::atomic<bool>* stop = nullptr;
  // Evaluated after every epoch into the log when given (before on_epoch).
  const tasks::ImageSplit* val = nullptr;
  const tasks::ImageSplit* test = nullptr;
};

enum class SupervisedStatus { done, interrupted };

// Trains until state.epoch == options.epochs. Throws RunError on a NaN/Inf loss.
// The passes are the hand-written ones of methods/images/backprop in the
// options' precision (lib/ad computes the same and is the tests' reference).
// The mini-batch is split into kBatchSlices fixed slices whose forward and
// backward passes run on up to `threads` threads; their gradients are summed
// in slice order, so the result does not depend on the thread count.
constexpr long kBatchSlices = 2;
SupervisedStatus train_classifier(SupervisedState& state, const tasks::ImageSplit& train, const SupervisedHooks& hooks,
                                  int threads = 1);

// One optimizer step on the batch `rows` of `data`; returns the batch loss and
// adds the number of correct predictions to *correct.
double train_step(SupervisedState& state, const tasks::ImageSplit& data, const std::vector<long>& rows,
                  double* correct, int threads = 1);

struct ClassifierEval {
  long n = 0;
  double accuracy = 0, loss = 0;
  Eigen::MatrixXi confusion;  // classes x classes: rows true label, columns predicted
};
// In double, or float (the per-epoch /val and /test checks of a float32 run);
// batches of 64 keep the buffers small enough to be reused, not mapped anew.
ClassifierEval evaluate_classifier(const images::ImageModel& model, const tasks::ImageSplit& data, int batch = 64,
                                   learn::Precision precision = learn::Precision::float64);

}  // namespace symlearn::images
