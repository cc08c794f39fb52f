#include "methods/registry.hpp"

#include "learn/model_file.hpp"
#include "methods/generators/family.hpp"
#include "methods/images/family.hpp"
#include "methods/lgn/family.hpp"
#include "methods/msr/family.hpp"
#include "methods/sharing/family.hpp"
#include "util/error.hpp"

#include <optional>

namespace symlearn::methods {

namespace {
// A config field of the wrong JSON type or value, reached anywhere while a
// family reads a model file, is that file's fault: exit 2 naming it, never
// nlohmann's exception as an internal error.
template <class R, class Q>
std::function<R(const io::Reader&, const Q&)> naming_file(std::function<R(const io::Reader&, const Q&)> fn) {
  if (!fn) return fn;
  return [fn](const io::Reader& f, const Q& q) {
    try {
      return fn(f, q);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(f.name() + ": its config has a field of the wrong type or value (" + e.what() + ")");
    }
  };
}

Family guarded(Family f) {
  f.eval = naming_file(f.eval);
  f.inspect = naming_file(f.inspect);
  f.regularize = naming_file(f.regularize);
  return f;
}
}  // namespace

const std::vector<Family>& families() {
  // One line per family, in the order meta-train --help lists them.
  static const std::vector<Family> all = {guarded(msr::family()), guarded(sharing::family()),
                                          guarded(images::family()), guarded(generators::family()),
                                          guarded(lgn::family())};
  return all;
}

const Family* find_family(const std::string& model) {
  for (const Family& f : families())
    for (const ModelInfo& m : f.models)
      if (m.name == model) return &f;
  return nullptr;
}

const Family& family_of(const io::Reader& model_file) {
  const learn::ModelReader r(model_file);
  if (r.model().empty()) r.fail("has no `model` attribute (the architecture's name)");
  const Family* f = find_family(r.model());
  if (!f) r.fail("holds a model '" + r.model() + "' that this symlearn does not know (it knows " + model_names() + ")");
  return *f;
}

std::string model_names() {
  std::string out;
  for (const Family& f : families())
    for (const ModelInfo& m : f.models) out += (out.empty() ? "" : ", ") + m.name;
  return out;
}

Inspection symmetry_inspection(const io::Reader& model_file, const InspectRequest& q,
                               const analysis::ReportHints& hints) {
  std::optional<analysis::Truth> truth;
  if (!q.truth_path.empty()) {
    io::Reader tasks(q.truth_path, "tasks");
    truth = analysis::load_truth(tasks);
  }
  const analysis::SymmetryReport report =
      analysis::inspect_symmetry(model_file, truth ? &*truth : nullptr, q.options, hints);
  Inspection out;
  out.json = analysis::report_json(report);
  out.json["figure"] = nullptr;  // the tool puts the figure's layout here when it draws one
  out.text = analysis::report_text(report);
  out.heatmaps = analysis::report_heatmaps(report);
  if (q.figure) out.figure = analysis::report_figure(report);
  return out;
}

}  // namespace symlearn::methods
