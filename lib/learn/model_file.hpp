// The one model-file layer every method family writes and reads through
// (design.md section 3). A model file holds
//   root attribute `model`   the model's name (what eval and inspect-symmetry dispatch on)
//   root attribute `config`  JSON: the family's architecture and training record, the seed,
//                            the dataset it was trained on (path, SHA-256, kind), provenance
//   /params/<name>           every parameter, with a `role` attribute (Role below)
//   /log/<series>            the training history, with one `description` on /log
//   /optimizer/{m,v}/<name>  optimizer moments, with root attribute `optimizer_step`,
//                            so that a model file is also a checkpoint to resume from.
// Families decide which parameters, series and config keys they store; this
// module decides how, and gives every reading error the same shape
// ("FILE: missing /params/U (needed by a msr-fc model)").
#pragma once

#include "ad/ad.hpp"
#include "io/h5.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::learn {

// What a parameter is for: the learned symmetry (what inspect-symmetry and
// prox-regularize look at), the initialisation the inner loop adapts from,
// a hyper-parameter learned by the outer loop, or the fitted weights of a
// single-dataset model.
enum class Role { symmetry, init, hyper, weights };
const char* role_name(Role role);
Role role_from_name(const std::string& name);  // throws InputError

// The tasks file a model was trained on.
struct DatasetRecord {
  std::string path;    // as given on the command line ("-" for stdin)
  std::string sha256;  // of the file's bytes
  std::string kind;    // the tasks file's `kind` attribute
  static DatasetRecord of(const io::Reader& tasks, const std::string& path);
  nlohmann::json to_json() const;
};

class ModelWriter {
 public:
  // `config` is the family's record; the dataset goes in as config["dataset"].
  ModelWriter(const std::string& target, const std::string& created_by, const std::string& model,
              nlohmann::json config, const DatasetRecord& dataset);
  // /params/<name>: row-major data of `shape`, or a matrix.
  void param(const std::string& name, Role role, const io::Shape& shape, const std::vector<double>& data);
  void param(const std::string& name, Role role, const ad::Mat& value);
  // Further attributes of a parameter or of the root.
  void attr(const std::string& param, const std::string& key, const std::string& value);
  void attr(const std::string& param, const std::string& key, std::int64_t value);
  void root_attr(const std::string& key, std::int64_t value);
  // /log/<series>; `description` says what every series is.
  void log(const std::string& series, const std::vector<double>& values);
  void log(const std::string& series, const std::vector<std::int64_t>& values);
  void log_description(const std::string& text);
  // Optimizer state: its step count, then /optimizer/{m,v}/<name> (which = "m" or "v").
  void optimizer_step(std::int64_t step);
  void moment(const std::string& which, const std::string& name, const io::Shape& shape,
              const std::vector<double>& data);
  void moment(const std::string& which, const std::string& name, const ad::Mat& value);
  std::uint64_t commit();

 private:
  io::Writer w_;
  bool log_ = false, optimizer_ = false;
};

class ModelReader {
 public:
  explicit ModelReader(const io::Reader& file);
  const std::string& name() const { return f_.name(); }
  const std::string& model() const { return model_; }  // the root `model` attribute ("" when absent)
  const nlohmann::json& config() const { return config_; }
  // config[key] (throws "FILE: the config lacks KEY" when absent or not an object).
  const nlohmann::json& section(const std::string& key) const;
  // config[key] as an integer, `fallback` when absent.
  long value(const std::string& key, long fallback) const;
  DatasetRecord dataset() const;  // empty fields when not recorded

  // /params/<name> of the given shape; a `role` attribute, when present, must
  // be `role`. Missing parameters are named with the model that needs them.
  bool has_param(const std::string& name) const;
  std::vector<double> param(const std::string& name, Role role, const io::ShapePattern& shape) const;
  ad::Mat param(const std::string& name, Role role, long rows, long cols) const;

  std::vector<double> log(const std::string& series) const;  // empty when absent
  std::vector<std::int64_t> log_ints(const std::string& series) const;

  std::int64_t optimizer_step() const;  // 0: no optimizer state stored
  std::vector<double> moment(const std::string& which, const std::string& name, const io::ShapePattern& shape) const;
  ad::Mat moment(const std::string& which, const std::string& name, long rows, long cols) const;

  // InputError("FILE: what").
  [[noreturn]] void fail(const std::string& what) const;

 private:
  const io::Reader& f_;
  std::string model_;
  nlohmann::json config_;
};

}  // namespace symlearn::learn
