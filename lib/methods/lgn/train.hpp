// Training the unfolded LGN networks (lgn, lgn-free, lgn-recon) as the
// authors' code does: Adam (lr 0.01), batch 128, the learning rate halved at
// 1/2, 3/4 and 7/8 of the epochs, gradient-norm clipping at 2, and after every
// step the basis filters (and, with --a-projection fro, the actions) scaled
// back to unit Frobenius norm. Inputs standardised and ZCA-whitened with the
// training images' statistics (kept in the model, so eval applies the same).
// Resumable: a checkpoint is the model file written mid-run.
#pragma once

#include "io/h5.hpp"
#include "learn/adam.hpp"
#include "learn/model_file.hpp"
#include "methods/lgn/network.hpp"
#include "tasks/images.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace symlearn::lgn {

struct TrainOptions {
  int epochs = 20;
  long batch = 128;
  double lr = 0.01, clip = 2, mu = 0.001;
  std::string a_projection = "fro";  // fro | none
  bool whiten = true;
  double whiten_epsilon = 1e-2;      // relative to the mean eigenvalue
  long train_limit = 0;              // 0: every training image
  std::uint64_t seed = 0;
  void validate() const;             // InputError
  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);
};

struct TrainState {
  LgnModel model;
  TrainOptions options;
  learn::Adam opt;
  long epoch = 0, batch = 0;  // epochs done; batches done in the current epoch
  double run_loss = 0, run_penalty = 0, run_correct = 0, run_seen = 0;  // the current epoch so far
  std::vector<double> step_loss, epoch_loss, epoch_penalty, epoch_accuracy;
};

// The learning rate of (0-based) epoch e: halved at int(E/2), int(3E/4), int(7E/8).
double learning_rate(const TrainOptions& o, long epoch);

struct Hooks {
  std::function<void(const TrainState&, long batches)> on_batch;
  std::function<void(TrainState&)> on_epoch;  // after an epoch (a checkpoint point)
  const std::atomic<bool>* stop = nullptr;
};
enum class Status { finished, interrupted };
// Trains from st's position to st.options.epochs; `train` already whitened.
Status train(TrainState& st, const ImageRows& train, const std::vector<int>& labels, const Hooks& hooks);

// One pass without gradients: accuracy and mean loss (classification) or mean squared error (reconstruction).
struct Evaluation {
  long n = 0;
  double loss = 0, accuracy = 0;
};
Evaluation evaluate(LgnModel& m, const ImageRows& x, const std::vector<int>& labels, long batch = 256);

void save_state(const std::string& target, const std::string& created_by, TrainState& st,
                const learn::DatasetRecord& dataset);
TrainState load_state(const io::Reader& f);  // InputError naming the file

}  // namespace symlearn::lgn
