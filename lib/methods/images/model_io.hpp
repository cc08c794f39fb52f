// Model files of the image classifiers (design.md section 3): root attribute
// `model` = the kind; /params/<name> with `role` (`symmetry` for the L-conv
// generator factors U [n, HW, d_h] and V [n, d_h, HW], `weights` otherwise)
// and `trainable` (0 for lconv-random's frozen generators); /log/step_loss,
// /log/epoch_loss, /log/epoch_accuracy; /optimizer/{m,v}/<name> with the
// `optimizer_step` attribute, so a model file is also a checkpoint; and in
// `config` the architecture, training options, position (epoch, batch), the
// parameter counts and the dataset (path, SHA-256, kind).
#pragma once

#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "methods/images/train.hpp"

#include <string>

namespace symlearn::images {

void save_classifier(const std::string& target, const std::string& created_by, const SupervisedState& state,
                     const learn::DatasetRecord& dataset);

struct LoadedClassifier {
  SupervisedState state;
  learn::DatasetRecord dataset;
  nlohmann::json config;
};
// Checks format, kind, architecture and every parameter's shape and role.
LoadedClassifier load_classifier(const io::Reader& file);

}  // namespace symlearn::images
