#include "methods/msr/regularize.hpp"

#include "analysis/symmetry_scores.hpp"
#include "util/error.hpp"

#include <set>

namespace symlearn::msr {

nlohmann::json ProxOptions::to_json() const {
  return {{"op", prox::op_name(spec.op)},        {"lambda", spec.lambda},
          {"step", spec.step},             {"group_weight", spec.group_weight},
          {"exclusive_weight", spec.exclusive_weight}, {"groups", groups},
          {"param", param}};
}

ProxOptions ProxOptions::from_json(const nlohmann::json& j) {
  ProxOptions o;
  o.spec.op = prox::op_from_name(j.value("op", std::string("exclusive")));
  o.spec.lambda = j.value("lambda", 0.0);
  o.spec.step = j.value("step", 1.0);
  o.spec.group_weight = j.value("group_weight", 1.0);
  o.spec.exclusive_weight = j.value("exclusive_weight", 1.0);
  o.groups = j.value("groups", std::string("input"));
  o.param = j.value("param", std::string());
  return o;
}

prox::Groups groups_for(const MetaModel& model, int index, const std::string& groups) {
  const auto& p = model.params[index];
  static const std::set<std::string> named = {"input", "output", "latent", "row"};
  if (!named.count(groups)) return prox::load_groups(groups, p.value.rows(), p.value.cols());
  const auto& a = model.arch;
  if (a.kind == "msr-fc" && p.name == "U") return prox::make_groups(groups, p.value.rows(), p.value.cols(), a.output_dim);
  if (a.kind == "msr-kron") {
    // U1's rows are input features, U2's rows output features.
    if ((groups == "input" && p.name == "U2") || (groups == "output" && p.name == "U1"))
      throw InputError("--groups " + groups + " does not apply to msr-kron's " + p.name + " (its rows are " +
                       (p.name == "U1" ? "input" : "output") + " features)");
    return prox::make_groups(groups == "latent" ? "latent" : "row", p.value.rows(), p.value.cols(), 0);
  }
  if (groups == "input" || groups == "output")
    throw InputError("--groups " + groups + " is defined for msr-fc and msr-kron symmetry matrices, not for " +
                     p.name + " of a " + a.kind + " model (use latent, row or a file)");
  return prox::make_groups(groups, p.value.rows(), p.value.cols(), 0);
}

std::vector<int> selected_params(const MetaModel& model, const ProxOptions& opt) {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(model.params.size()); ++i) {
    const auto& p = model.params[i];
    if (opt.param.empty() ? p.role == learn::Role::symmetry : p.name == opt.param) out.push_back(i);
  }
  if (out.empty())
    throw InputError(opt.param.empty() ? "the " + model.arch.kind + " model has no symmetry parameters to regularise"
                                       : "the model has no parameter '" + opt.param + "'");
  return out;
}

std::vector<ParamReport> regularize(MetaModel& model, const ProxOptions& opt, int kernel) {
  std::vector<ParamReport> reports;
  const Regularizer reg(model, opt);
  const auto& a = model.arch;
  for (int i : selected_params(model, opt)) {
    auto& p = model.params[i];
    ParamReport r;
    r.name = p.name;
    r.rows = p.value.rows();
    r.cols = p.value.cols();
    const prox::Groups g = groups_for(model, i, opt.groups);
    r.groups = static_cast<long>(std::set<long>(g.begin(), g.end()).size());
    r.sparsity_before = prox::sparsity(p.value);
    if (kernel > 0 && a.kind == "msr-fc" && p.name == "U") r.band_before = analysis::band_mass(p.value, a.output_dim, a.input_dim, kernel, false);
    reports.push_back(r);
  }
  reg.apply(model, opt.spec.step);
  for (auto& r : reports) {
    const auto& p = model.params[model.find(r.name)];
    r.sparsity_after = prox::sparsity(p.value);
    if (r.band_before >= 0) r.band_after = analysis::band_mass(p.value, a.output_dim, a.input_dim, kernel, false);
  }
  return reports;
}

Regularizer::Regularizer(const MetaModel& model, const ProxOptions& opt) : opt_(opt) {
  params_ = selected_params(model, opt);
  for (int i : params_) groups_.push_back(groups_for(model, i, opt.groups));
}

void Regularizer::apply(MetaModel& model, double step) const {
  prox::Spec s = opt_.spec;
  s.step = step;
  for (std::size_t i = 0; i < params_.size(); ++i) prox::apply(model.params[params_[i]].value, groups_[i], s);
}

}  // namespace symlearn::msr
