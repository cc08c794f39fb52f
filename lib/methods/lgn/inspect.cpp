#include "methods/lgn/inspect.hpp"

#include "methods/lgn/scores.hpp"
#include "methods/lgn/session.hpp"
#include "methods/lgn/train.hpp"
#include "tasks/lgn_patches.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace symlearn::lgn {

namespace {

constexpr int kBaselineSamples = 500;
constexpr double kStructuredZ = 5;

std::string fmt(const char* f, double v) {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// JSON has no infinity: a huge condition number is written as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

struct ActionReport {
  std::string label;  // "layer 0 group 1 channel 0"
  ActionScores scores;
  std::vector<double> z;
  int best = -1;
  double best_cos = 0;
  double inverse = -1;  // ||A A~ - I|| / sqrt(d), -1 when no A~
  std::vector<double> orbit;
  bool structured = false;
};

ActionReport report(const std::string& label, const Mat& a, int p, int power, const ScoreBaseline& base,
                    const std::vector<Mat>& templates) {
  ActionReport r;
  r.label = label;
  r.scores = action_scores(a, p, power);
  r.z = z_scores(r.scores, base);
  std::tie(r.best, r.best_cos) = best_template(a, templates);
  const auto& names = score_names();
  for (const std::string& s : structure_score_names()) {
    const std::size_t k = std::size_t(std::find(names.begin(), names.end(), s) - names.begin());
    if (std::abs(r.z[k]) > kStructuredZ) r.structured = true;
  }
  return r;
}

nlohmann::json report_json(const ActionReport& r, const std::vector<std::string>& template_names) {
  nlohmann::json scores = nlohmann::json::object(), z = nlohmann::json::object();
  for (std::size_t k = 0; k < score_names().size(); ++k) {
    scores[score_names()[k]] = number(r.scores.values[k]);
    z[score_names()[k]] = number(r.z[k]);
  }
  nlohmann::json j = {{"action", r.label}, {"scores", scores}, {"z", z}, {"structured", r.structured},
                      {"best_template", r.best >= 0 ? template_names[std::size_t(r.best)] : ""},
                      {"best_template_abs_cos", r.best_cos}};
  if (r.inverse >= 0) j["inverse_residual"] = r.inverse;
  if (!r.orbit.empty()) j["orbit_norms"] = r.orbit;
  return j;
}

std::string score_line(const ActionReport& r, const std::vector<std::string>& template_names) {
  std::string s = r.label + (r.structured ? "  [structured]" : "") + "\n ";
  const auto& names = score_names();
  for (std::size_t k = 0; k < names.size(); ++k)
    s += " " + names[k] + " " + fmt("%.3g", r.scores.values[k]) + " (z " + fmt("%+.1f", r.z[k]) + ")" +
         (k % 4 == 3 ? "\n " : "");
  s += "\n  best template " + (r.best >= 0 ? template_names[std::size_t(r.best)] : std::string("-")) + " |cos| " +
       fmt("%.3f", r.best_cos);
  if (r.inverse >= 0) s += "  |A A~ - I|/sqrt(d) " + fmt("%.3f", r.inverse);
  if (!r.orbit.empty()) {
    s += "  orbit norms";
    for (double v : r.orbit) s += " " + fmt("%.3g", v);
  }
  return s + "\n";
}

// The sterile transforms (tasks/lgn_patches) on a p x p grid, with their names;
// those that do not fit (a box larger than the kernel) are left out.
std::vector<Mat> sterile_templates(int p, std::vector<std::string>& names) {
  std::vector<Mat> out;
  if (p < 3) return out;
  for (const std::string& t : tasks::patch_transform_names()) {
    try {
      out.push_back(tasks::patch_transform(p, t));
      names.push_back(t);
    } catch (const InputError&) {
    }
  }
  return out;
}

// The filters side by side, one pixel of gap (NaN-free: gaps are 0).
Mat filter_strip(const Mat& filters, int kernel) {
  const long f = filters.cols();
  Mat strip = Mat::Zero(kernel, f * (kernel + 1) - 1);
  for (long j = 0; j < f; ++j)
    for (int r = 0; r < kernel; ++r)
      for (int c = 0; c < kernel; ++c) strip(r, j * (kernel + 1) + c) = filters(r * kernel + c, j);
  return strip;
}

}  // namespace

const std::vector<std::string>& structure_score_names() {
  static const std::vector<std::string> n = {"skew_share",      "triangularity",   "toeplitz_share",
                                             "circulant_share", "conv2d_share",    "quadrant_coherence",
                                             "block_coherence", "block_participation"};
  return n;
}

methods::Inspection inspect_network(const io::Reader& file, const methods::InspectRequest& q) {
  if (!q.truth_path.empty()) throw InputError("--truth is for lgn-action models (a sterile lgn-patches file)");
  TrainState st = load_state(file);
  const LgnModel& m = st.model;
  const LgnArch& a = m.arch;
  methods::Inspection out;
  out.json = {{"model", a.kind}, {"layers", a.layers}, {"groups", a.groups}, {"order", a.order},
              {"kernel", a.kernel}, {"epochs", st.epoch}, {"vec", "row-major"}};
  out.text = "model       " + file.name() + " (" + a.kind + ", " + std::to_string(a.layers) + " layers, " +
             std::to_string(a.groups) + " groups of " + std::to_string(a.order) + " filters, " + std::to_string(st.epoch) +
             " epochs)\n";
  std::vector<plot::Panel> panels;
  if (!a.structured()) {
    out.text += "an unstructured network: no actions to inspect; its filters are in the PNG\n";
  } else {
    const int p = a.kernel;
    const ScoreBaseline base = random_baseline(p, a.order, kBaselineSamples, 0);
    std::vector<std::string> template_names;
    const std::vector<Mat> templates = sterile_templates(p, template_names);
    nlohmann::json actions = nlohmann::json::array();
    long structured = 0, total = 0;
    std::vector<double> inverse;
    for (int l = 0; l < a.layers; ++l) {
      const Layer& y = m.layers[std::size_t(l)];
      for (int g = 0; g < a.groups; ++g)
        for (int c = 0; c < a.channels; ++c) {
          const std::size_t j = std::size_t(g * a.channels + c);
          ActionReport r = report("layer " + std::to_string(l) + " group " + std::to_string(g) + " channel " +
                                      std::to_string(c),
                                  y.action[j], p, a.order, base, templates);
          if (j < y.action_inv.size()) {
            r.inverse = inverse_residual(y.action[j], y.action_inv[j]);
            inverse.push_back(r.inverse);
          }
          r.orbit = orbit_norms(y.action[j], y.basis.col(g).segment(long(c) * a.dim(), a.dim()), a.order);
          structured += r.structured;
          ++total;
          actions.push_back(report_json(r, template_names));
          out.text += score_line(r, template_names);
          plot::Panel h;
          h.title = "L" + std::to_string(l) + " g" + std::to_string(g) + (a.channels > 1 ? " c" + std::to_string(c) : "");
          h.subtitle = "A " + std::to_string(a.dim()) + "x" + std::to_string(a.dim()) + (r.structured ? ", structured" : "");
          h.values = y.action[j];
          panels.push_back(h);
        }
      const Mat filters = m.filters(l);
      for (int g = 0; g < a.groups; ++g) {
        Mat orbit(a.dim(), a.order);
        for (int e = 0; e < a.order; ++e) orbit.col(e) = filters.col(e * a.groups + g).head(a.dim());
        plot::Panel f;
        f.title = "L" + std::to_string(l) + " g" + std::to_string(g) + " filters";
        f.subtitle = "b, Ab, ..., A^" + std::to_string(a.order - 1) + "b (channel 0)";
        f.values = filter_strip(orbit, p);
        panels.push_back(f);
      }
    }
    std::sort(inverse.begin(), inverse.end());
    out.json["actions"] = actions;
    out.json["structured_actions"] = structured;
    out.json["actions_total"] = total;
    out.json["structured_share"] = total ? double(structured) / double(total) : 0.0;
    out.json["structured_rule"] = "any of " + std::to_string(structure_score_names().size()) +
                                  " structure scores more than 5 standard deviations from random unit-norm matrices (" +
                                  std::to_string(kBaselineSamples) + " samples)";
    nlohmann::json bj = nlohmann::json::object();
    for (std::size_t k = 0; k < score_names().size(); ++k)
      bj[score_names()[k]] = {{"mean", number(base.mean[k])}, {"std", number(base.std[k])}};
    out.json["random_baseline"] = bj;
    if (!inverse.empty()) out.json["median_inverse_residual"] = inverse[inverse.size() / 2];
    out.text += "structured  " + std::to_string(structured) + " of " + std::to_string(total) +
                " actions (any structure score |z| > 5 against random unit-norm matrices)\n";
    if (!inverse.empty())
      out.text += "invertible  median |A A~ - I|_F / sqrt(d) " + fmt("%.4f", inverse[inverse.size() / 2]) + "\n";
  }
  if (!a.structured())
    for (int l = 0; l < a.layers; ++l) {
      plot::Panel f;
      f.title = "layer " + std::to_string(l) + " filters";
      f.values = filter_strip(m.filters(l).topRows(a.dim()), a.kernel);
      panels.push_back(f);
    }
  if (q.figure)
    out.figure = plot::compose_figure(a.kind + ": " + file.name(),
                                      {"learned actions A (" + std::to_string(a.dim()) + "x" + std::to_string(a.dim()) +
                                       ", row-major filter pixels) and each group's filters b, Ab, A^2b, ..."},
                                      panels);
  return out;
}

methods::Inspection inspect_action(const io::Reader& file, const methods::InspectRequest& q) {
  int p = 0;
  const Mat a = load_action(file, &p);
  const ScoreBaseline base = random_baseline(p, 4, kBaselineSamples, 0);
  std::vector<std::string> template_names;
  const std::vector<Mat> templates = sterile_templates(p, template_names);
  const ActionReport r = report("action", a, p, 4, base, templates);
  methods::Inspection out;
  out.json = report_json(r, template_names);
  out.json["model"] = "lgn-action";
  out.json["patch"] = p;
  out.text = "model       " + file.name() + " (lgn-action on " + std::to_string(p) + "x" + std::to_string(p) + " patches)\n" +
             score_line(r, template_names);
  std::vector<plot::Panel> panels(1);
  panels[0].title = "learned A";
  panels[0].values = a;
  std::string caption = "no truth given";
  if (!q.truth_path.empty()) {
    io::Reader tf(q.truth_path, "tasks");
    const Mat t = tasks::load_true_operator(tf);
    if (t.rows() != a.rows())
      throw InputError(tf.name() + ": its /truth/operator is " + std::to_string(t.rows()) + " x " +
                       std::to_string(t.rows()) + ", the model's action " + std::to_string(a.rows()) + " x " +
                       std::to_string(a.rows()));
    const ArgmaxCheck am = row_argmax_check(a, t);
    const double cos = cosine(a, t);
    out.json["truth"] = tf.name();
    out.json["cos_truth"] = cos;
    out.json["relative_error"] = (a - t).norm() / t.norm();
    out.json["argmax_rows"] = am.matched;
    out.json["argmax_rows_of"] = am.rows;
    out.text += "truth       " + tf.name() + "\ncos(A, T)   " + fmt("%.4f", cos) + "\n|A - T|/|T| " +
                fmt("%.4f", (a - t).norm() / t.norm()) + "\nargmax rows " + std::to_string(am.matched) + " of " +
                std::to_string(am.rows) + " (row argmax of A at T's)\n";
    plot::Panel tp;
    tp.title = "truth T";
    tp.values = t;
    panels.push_back(tp);
    caption = "cos(A, T) " + fmt("%.4f", cos) + ", argmax rows " + std::to_string(am.matched) + "/" + std::to_string(am.rows);
  }
  if (q.figure) out.figure = plot::compose_figure("lgn-action: " + file.name(), {caption}, panels);
  return out;
}

}  // namespace symlearn::lgn
