// Model files (design.md section 3): /params/<name> with a `role` attribute,
// the training history under /log, the optimizer state under /optimizer (so
// a model file is also a checkpoint), and in `config` the architecture, every
// training option, the seed and the dataset (path and SHA-256).
#pragma once

#include "io/h5.hpp"
#include "learn/meta_train.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace symlearn::learn {

struct DatasetRecord {
  std::string path;    // as given on the command line ("-" for stdin)
  std::string sha256;  // of the file's bytes
  std::string kind;    // the tasks file's `kind` attribute
};

// Writes the state to `target` ("-" = stdout) atomically.
void save_model(const std::string& target, const std::string& created_by, const TrainState& state,
                const DatasetRecord& dataset, const nlohmann::json& provenance = nlohmann::json::array());

struct LoadedModel {
  TrainState state;
  DatasetRecord dataset;
  nlohmann::json config;
};

// Reads and checks a model file: format, version, architecture, and the shape
// and role of every parameter the architecture needs.
LoadedModel load_model(const io::Reader& file);

}  // namespace symlearn::learn
