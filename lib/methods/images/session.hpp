// The image classifiers' runs as the tools perform them: meta-train (with a
// progress bar, checkpoints at batch boundaries, resume, a clean stop on
// Ctrl-C / SIGTERM) and eval (accuracy, confusion matrix).
#pragma once

#include "io/h5.hpp"
#include "methods/images/train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::images {

struct ClassifierSessionOptions {
  std::string tasks_path, output = "-";
  images::ImageArch arch;  // kind and sizes; image shape and classes come from the data
  SupervisedOptions train;
  std::string checkpoint;  // "" : OUTPUT.ckpt when OUTPUT is a file
  long checkpoint_every = 0;  // batches (0: only on Ctrl-C)
  std::string resume;
  bool epochs_given = false;
  int threads = 1;  // over the slices of a mini-batch; the result does not depend on it
  bool quiet = false;
};
// meta-train lconv, lconv-random, cnn, fc, fc-shallow. Returns the JSON summary.
nlohmann::json run_classifier_training(const ClassifierSessionOptions& opt);

// eval on an image model file: accuracy, confusion matrix, parameter count.
nlohmann::json evaluate_classifier_file(const io::Reader& model_file, const std::string& tasks_path,
                                        const std::string& split, long limit);
std::string eval_text(const nlohmann::json& result);

}  // namespace symlearn::images
