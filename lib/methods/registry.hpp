// The method families, as the tools see them. Each family (one folder under
// lib/methods/) describes itself in one Family value: its models, and what
// meta-train, eval, inspect-symmetry and prox-regularize call for them. The
// tools dispatch through families() and know no family by name; adding a
// family is a folder, one line in registry.cpp, tests and a README section
// (lib/methods/README.md).
#pragma once

#include "analysis/symmetry_report.hpp"
#include "io/h5.hpp"
#include "plot/figure.hpp"
#include "prox/prox.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace symlearn::methods {

// ---- meta-train ----------------------------------------------------------------

// What `meta-train MODEL` hands the trainer besides its own options.
struct TrainContext {
  std::string tasks_path;  // "" when resuming: the checkpoint's dataset
  std::string output = "-";
  std::string resume;      // "" : a fresh run
  std::uint64_t seed = 0;
  int threads = 1;
  bool quiet = false;
};

// One model's `meta-train` subcommand: its options bound to its members, and the run.
class Trainer {
 public:
  virtual ~Trainer() = default;
  // This model's options (the family's and its own), each with its default.
  virtual void add_options(CLI::App& app) = 0;
  // Whether the model's runs can be resumed, and the options that may still
  // be given then (they extend the run, e.g. --steps); every other option is fixed
  // by the checkpoint.
  virtual bool resumable() const { return false; }
  virtual std::vector<std::string> resume_options() const { return {}; }
  // Trains and writes the model; returns the JSON summary.
  virtual nlohmann::json train(const TrainContext& context) = 0;
};

// ---- eval ---------------------------------------------------------------------

struct EvalRequest {
  std::string model_path, tasks_path;
  std::string split = "/test";
  std::string output;  // a per-task report file ("" : none)
  long limit = 0;      // 0: every example / task
  int support = 0, query = 0;  // 0: the training values
  std::uint64_t seed = 0;
  int threads = 1;
};

struct EvalResult {
  nlohmann::json json;
  std::string text;  // what eval prints without --json ("" when the report went to stdout)
};

// ---- inspect-symmetry -----------------------------------------------------------

struct InspectRequest {
  std::string truth_path;  // "" : no truth
  analysis::InspectOptions options;
  bool figure = false;     // --png was given
};

struct Inspection {
  nlohmann::json json;
  std::string text;
  std::string heatmaps;                // for a terminal
  std::optional<plot::Figure> figure;  // when requested and drawn
};

// ---- prox-regularize ----------------------------------------------------------------

struct RegularizeRequest {
  std::string model_path, output = "-", truth_path;
  prox::Spec spec;
  std::string op = "exclusive";
  std::string groups = "input";  // how the entries of a symmetry matrix are grouped
  std::string param;             // one parameter by name ("" : every symmetry parameter)
  std::string created_by;
};

// ---- the registry -------------------------------------------------------------

struct ModelInfo {
  std::string name;     // the meta-train subcommand and the files' `model` attribute
  std::string summary;  // one line
  std::string paper;    // where it comes from ("baseline" for controls)
  std::string example;  // an `e.g.:` shell line: gen-tasks ... then meta-train NAME ...
};

struct Family {
  std::string name;   // "msr"
  std::string title;  // heading of meta-train --help
  std::vector<ModelInfo> models;
  std::function<std::unique_ptr<Trainer>(const std::string& model)> trainer;
  std::function<EvalResult(const io::Reader& model_file, const EvalRequest&)> eval;
  std::function<Inspection(const io::Reader& model_file, const InspectRequest&)> inspect;
  // prox-regularize: writes the regularised model, returns one JSON object per
  // parameter; empty when the family has no symmetry matrices to sparsify.
  std::function<nlohmann::json(const io::Reader& model_file, const RegularizeRequest&)> regularize;
};

const std::vector<Family>& families();
// The family of a model name (nullptr when none has it).
const Family* find_family(const std::string& model);
// The family of a model file, by its `model` attribute (InputError when unknown).
const Family& family_of(const io::Reader& model_file);
// "msr-fc, msr-kron, ..." in registry order.
std::string model_names();

// Shared by the families' inspect functions: the generic symmetry report
// (analysis/symmetry_report) as an Inspection.
Inspection symmetry_inspection(const io::Reader& model_file, const InspectRequest& request,
                               const analysis::ReportHints& hints);

}  // namespace symlearn::methods
