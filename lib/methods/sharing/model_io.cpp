#include "methods/sharing/model_io.hpp"

#include "util/error.hpp"

#include <cmath>

namespace symlearn::sharing {

namespace {
using learn::Role;

// Shapes of the fitted weights, in the order of the names.
std::vector<std::pair<long, long>> weight_shapes(const SharingArch& a) {
  if (a.gaussian()) return {{a.length, 1}};
  return {{a.vocab, a.embed}, {static_cast<long>(a.length) * a.hidden, a.embed}, {a.length, a.hidden}, {a.hidden, 1}, {1, 1}};
}

const std::vector<std::string>& weight_names(const SharingArch& a) {
  return a.gaussian() ? gaussian_weight_names() : sum_weight_names();
}
}  // namespace

void save_sharing_model(const std::string& target, const std::string& created_by, const SharingModel& m,
                        const learn::DatasetRecord& dataset) {
  const nlohmann::json config = {{"model", m.arch.to_json()},
                                 {"training", m.options.to_json()},
                                 {"seed", m.options.seed},
                                 {"target", {{"mean", m.y_mean}, {"std", m.y_std}}},
                                 {"chosen_start", m.log.chosen},
                                 {"refine_steps", m.log.refine_steps}};  // no timings: same inputs and seed give a bit-identical file
  learn::ModelWriter w(target, created_by, m.arch.kind, config, dataset);
  w.param("sharing", Role::symmetry, m.sharing);
  w.attr("sharing", "description",
         std::string("A: position p uses weights sum_q A[p,q] psi_q; the row argmax is the sharing used by the fit "
                     "(with --refine: the refined partition, one-hot; the logits are the learned A's)"));
  if (m.logits.size() > 0) {
    w.param("logits", Role::hyper, m.logits);
    w.attr("logits", "description", std::string("A = row-softmax(logits), learned by the outer problem"));
  }
  const auto& names = weight_names(m.arch);
  for (std::size_t i = 0; i < names.size(); ++i) {
    w.param(names[i], Role::weights, m.weights.at(i));
    w.attr(names[i], "description", std::string("fitted with the hard (row argmax) sharing"));
  }
  w.log("outer_val_loss", m.log.outer_val_loss);
  w.log("outer_entropy", m.log.outer_entropy);
  w.log("final_hyper_loss", m.log.final_hyper_loss);
  w.log("restart_loss", m.log.restart_loss);
  w.log_description("outer_val_loss / outer_entropy: the chosen start, per outer step (validation MSE in label units, "
                    "mean row entropy of A); final_hyper_loss: /hyper MSE during the final fit; restart_loss: each "
                    "start's selection loss (/hyper MSE, or /val for gaussian-sharing)");
  w.commit();
}

SharingModel load_sharing_model(const io::Reader& f, learn::DatasetRecord* dataset) {
  const learn::ModelReader r(f);
  SharingModel m;
  const nlohmann::json &model = r.section("model"), &training = r.section("training");
  try {
    m.arch = SharingArch::from_json(model);
    m.options = SharingOptions::from_json(training);
  } catch (const InputError& e) {
    r.fail(e.what());
  }
  if (r.model() != m.arch.kind)
    r.fail("the model attribute '" + r.model() + "' disagrees with the config's " + m.arch.kind);
  const long L = m.arch.length;
  m.sharing = r.param("sharing", Role::symmetry, L, L);
  for (long i = 0; i < L; ++i) {
    if ((m.sharing.row(i).array() < 0).any() || std::abs(m.sharing.row(i).sum() - 1.0) > 1e-6)
      r.fail("/params/sharing row " + std::to_string(i) + " is not a probability distribution");
  }
  if (r.has_param("logits")) m.logits = r.param("logits", Role::hyper, L, L);
  const auto shapes = weight_shapes(m.arch);
  const auto& names = weight_names(m.arch);
  for (std::size_t i = 0; i < names.size(); ++i)
    m.weights.push_back(r.param(names[i], Role::weights, shapes[i].first, shapes[i].second));
  const nlohmann::json& c = r.config();
  if (c.contains("target") && c["target"].is_object()) {
    m.y_mean = c["target"].value("mean", 0.0);
    m.y_std = c["target"].value("std", 1.0);
  }
  m.log.chosen = static_cast<int>(r.value("chosen_start", 0));
  if (c.contains("refine_steps") && c["refine_steps"].is_array())
    for (const auto& step : c["refine_steps"])
      if (step.is_string()) m.log.refine_steps.push_back(step.get<std::string>());
  m.log.outer_val_loss = r.log("outer_val_loss");
  m.log.outer_entropy = r.log("outer_entropy");
  m.log.final_hyper_loss = r.log("final_hyper_loss");
  m.log.restart_loss = r.log("restart_loss");
  if (dataset) *dataset = r.dataset();
  return m;
}

}  // namespace symlearn::sharing
