// The MSR family's model files, through the shared layer (learn/model_file):
// /params U, v0, inner_lr_* ... with their roles; /log/train_loss, val_step,
// val_loss; the Adam state; in config the architecture (model), every training
// option (training), seed, steps_done, dataset and provenance.
#pragma once

#include "io/h5.hpp"
#include "learn/model_file.hpp"
#include "methods/msr/meta_train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::msr {

// Writes the state to `target` ("-" = stdout) atomically.
void save_model(const std::string& target, const std::string& created_by, const TrainState& state,
                const learn::DatasetRecord& dataset, const nlohmann::json& provenance = nlohmann::json::array());

struct LoadedModel {
  TrainState state;
  learn::DatasetRecord dataset;
  nlohmann::json config;
};

// Reads and checks a model file: format, version, architecture, and the shape
// and role of every parameter the architecture needs.
LoadedModel load_model(const io::Reader& file);

}  // namespace symlearn::msr
