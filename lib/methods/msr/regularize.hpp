// Proximal steps on a model's symmetry parameters: what `prox-regularize`
// does to a model file and what `meta-train --prox` does after every outer
// update.
#pragma once

#include "methods/msr/models.hpp"
#include "prox/prox.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace symlearn::msr {

struct ProxOptions {
  prox::Spec spec;
  std::string groups = "input";  // input | output | latent | row | a file of ids
  std::string param;             // one parameter by name; empty: every `symmetry` parameter

  nlohmann::json to_json() const;
  static ProxOptions from_json(const nlohmann::json& j);
};

// The groups of parameter `index` of `model` under opt.groups.
prox::Groups groups_for(const MetaModel& model, int index, const std::string& groups);

struct ParamReport {
  std::string name;
  long rows = 0, cols = 0, groups = 0;
  double sparsity_before = 0, sparsity_after = 0;
  double band_before = -1, band_after = -1;  // L1 share on the true band; -1: not known
};

// The indices of the parameters the options select (throws InputError if none).
std::vector<int> selected_params(const MetaModel& model, const ProxOptions& opt);

// Applies the prox in place. `kernel` > 0 (the true kernel of the data) adds
// band masses for msr-fc's U to the report.
std::vector<ParamReport> regularize(MetaModel& model, const ProxOptions& opt, int kernel = 0);

// Cached groups for repeated application (meta-train's every step).
class Regularizer {
 public:
  Regularizer(const MetaModel& model, const ProxOptions& opt);
  void apply(MetaModel& model, double step) const;  // prox with s = step

 private:
  ProxOptions opt_;
  std::vector<int> params_;
  std::vector<prox::Groups> groups_;
};

}  // namespace symlearn::msr
