// A whole `meta-train` run as the tool performs it: read the tasks, start or
// resume a training state, train with a progress bar, checkpoints and a clean
// stop on Ctrl-C / SIGTERM, write the model, return a JSON summary.
#pragma once

#include "methods/msr/meta_train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::msr {

struct SessionOptions {
  std::string tasks_path;
  std::string output = "-";
  std::string kind = "msr-fc";
  int latent = 0, kron_in = 0, kron_out = 0, kernel = 0;  // 0: from the data
  double u_init_std = 0.01;
  double inner_lr = 0.1;
  std::string lr_mode = "layer";
  std::string inner_solver = "sgd";
  double ridge_lambda = 0.01;
  MetaTrainOptions train;
  std::string prox_op;  // "" : no proximal step
  std::string checkpoint;  // "" : OUTPUT.ckpt when OUTPUT is a file
  long checkpoint_every = 500;
  std::string resume;
  bool steps_given = false;  // with --resume: --steps overrides the checkpoint's
  int threads = 1;
  bool quiet = false;
};

nlohmann::json run_meta_train(const SessionOptions& opt);

}  // namespace symlearn::msr
