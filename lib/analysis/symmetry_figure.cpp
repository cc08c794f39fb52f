// The pictures of a symmetry report: a PNG figure and terminal heatmaps.
#include "analysis/symmetry_report.hpp"
#include "plot/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace symlearn::analysis {

namespace {

constexpr int kMaxColumnPanels = 4;  // columns of U drawn as W maps

std::string basename(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dims(Eigen::Index r, Eigen::Index c) { return std::to_string(r) + " x " + std::to_string(c); }

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

plot::Panel heatmap(std::string title, std::string subtitle, MatrixXd values, bool nonnegative = false) {
  plot::Panel p;
  p.kind = plot::Panel::Kind::heatmap;
  p.title = std::move(title);
  p.subtitle = std::move(subtitle);
  p.values = std::move(values);
  p.nonnegative = nonnegative;
  return p;
}

plot::Panel histogram(const MatrixReport& r) {
  plot::Panel p;
  p.kind = plot::Panel::Kind::histogram;
  p.title = r.name + ": |u| histogram";
  const auto& h = r.stats.histogram;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%ld entries, 2 bins a decade; grey: below %.0e (zeros too)",
                static_cast<long>(r.value.size()), h.edges.empty() ? 0.0 : h.edges.front());
  p.subtitle = buf;
  p.edges = h.edges;
  p.counts = h.counts;
  p.below = h.below;
  return p;
}

// W = unvec(u), m x n, column-major as vec(W) = U v.
MatrixXd as_w(const Eigen::VectorXd& column, int m, int n) { return Eigen::Map<const MatrixXd>(column.data(), m, n); }

// Positions grouped by column, in order of first position (as the report).
std::vector<std::vector<int>> groups_of_columns(const std::vector<int>& column) {
  std::vector<std::vector<int>> groups;
  std::vector<int> seen;
  for (std::size_t p = 0; p < column.size(); ++p) {
    const auto it = std::find(seen.begin(), seen.end(), column[p]);
    const std::size_t k = static_cast<std::size_t>(it - seen.begin());
    if (it == seen.end()) {
      seen.push_back(column[p]);
      groups.emplace_back();
    }
    groups[k].push_back(static_cast<int>(p));
  }
  return groups;
}

}  // namespace

plot::Figure report_figure(const SymmetryReport& rep) {
  std::string title = "inspect-symmetry: " + basename(rep.model_name) + " (" + rep.kind;
  if (rep.input_dim && rep.output_dim) title += ", " + std::to_string(rep.input_dim) + " -> " + std::to_string(rep.output_dim);
  if (rep.steps >= 0) title += ", " + std::to_string(rep.steps) + " steps";
  title += ")";
  std::vector<std::string> caption;
  if (rep.truth) {
    const Truth& t = *rep.truth;
    if (t.has_sharing)
      caption.push_back("truth: " + basename(t.name) + " (" + t.kind + "), length " + std::to_string(t.length) +
                        ", true groups " + groups_str(groups_of_columns(t.sharing_groups)));
    else
      caption.push_back("truth: " + basename(t.name) + ", rank " + std::to_string(t.rank) + ", kernel " +
                        std::to_string(t.kernel) + (t.permuted_inputs ? ", inputs permuted per task" : ""));
  }
  std::vector<plot::Panel> panels;
  for (const auto& r : rep.matrices) {
    if (r.sharing) {
      const SharingReport& s = *r.sharing;
      std::string sub = "W[i,j]: output i down, input j across";
      if (s.compared) sub += "; band mass " + fixed3(s.band_mass);
      if (s.tying_checked) sub += ", partition distance " + std::to_string(s.partition_distance);
      panels.push_back(heatmap(r.name + ": max_k |U[(i,j),k]| [" + dims(s.m, s.n) + "]", sub, s.map, true));
      const int shown = static_cast<int>(std::min<Eigen::Index>(r.value.cols(), kMaxColumnPanels));
      for (int k = 0; k < shown; ++k)
        panels.push_back(heatmap(r.name + "[:," + std::to_string(k) + "] as W [" + dims(s.m, s.n) + "]",
                                 k == 0 ? "one column of U reshaped; one colour per diagonal = tied weights" : "",
                                 as_w(r.value.col(k), s.m, s.n)));
      // A large W's diagonals are a few pixels wide: zoom into a corner.
      constexpr int kCorner = 16;
      if (shown > 0 && (s.m > 2 * kCorner || s.n > 2 * kCorner)) {
        const MatrixXd w0 = as_w(r.value.col(0), s.m, s.n);
        const int cr = std::min(s.m, kCorner), cc = std::min(s.n, kCorner);
        plot::Panel corner = heatmap(r.name + "[:,0] as W, corner [" + dims(cr, cc) + "]",
                                     "W[0:" + std::to_string(cr) + ", 0:" + std::to_string(cc) +
                                         "] enlarged, same colour scale as the whole",
                                     w0.topLeftCorner(cr, cc));
        corner.vmax = w0.cwiseAbs().maxCoeff();
        panels.push_back(std::move(corner));
      }
      if (r.value.cols() > shown)
        caption.push_back(r.name + ": columns " + std::to_string(shown) + ".." + std::to_string(r.value.cols() - 1) +
                          " of U not drawn");
      const std::string v = verdict_line(s, rep.options);
      if (!v.empty()) caption.push_back(r.name + ": " + v);
    } else if (r.sharing_groups) {
      const SharingGroupsReport& g = *r.sharing_groups;
      const std::string l = dims(g.length, g.length);
      panels.push_back(heatmap(r.name + ": A [" + l + "]",
                               "row p: position, column q: psi_q; row max min " + fixed3(g.row_max_min) + ", mean " +
                                   fixed3(g.row_max_mean),
                               r.value, true));
      if (g.compared && rep.truth && rep.truth->has_sharing)
        panels.push_back(heatmap("truth: A_gt [" + l + "]", "one-hot rows: the true groups", rep.truth->sharing, true));
      caption.push_back(r.name + ": " + std::to_string(g.groups.size()) + " groups " + groups_str(g.groups) +
                        " (row argmax of A)");
      if (g.compared) caption.push_back(r.name + ": " + sharing_verdict_line(g));
    } else {
      std::string sub;
      if (r.square)
        sub = "Toeplitz " + fixed3(r.square->scores.toeplitz) + ", circulant " + fixed3(r.square->scores.circulant) +
              ", symmetric " + fixed3(r.square->scores.symmetric_share);
      panels.push_back(heatmap(r.name + " [" + dims(r.value.rows(), r.value.cols()) + "]", sub, r.value));
    }
    panels.push_back(histogram(r));
  }
  caption.push_back(panels.empty() ? "nothing to draw"
                                   : "colours: red > 0, blue < 0, near-white 0; each map has its own scale (bar on its right)");
  for (const auto& n : rep.notes) caption.push_back("note: " + n);
  return plot::compose_figure(title, caption, panels);
}

std::string report_heatmaps(const SymmetryReport& rep) {
  std::string out;
  for (const auto& r : rep.matrices) {
    if (r.sharing) {
      const MatrixXd& map = r.sharing->map;
      out += "\n" + r.name + ": max_k |U[(i,j),k]| as W (" + dims(map.rows(), map.cols()) +
             ", output i down, input j across)\n";
      out += plot::ansi_heatmap(map, map.size() ? map.maxCoeff() : 0.0);
    } else {
      out += "\n" + r.name + " (" + dims(r.value.rows(), r.value.cols()) + ")\n";
      out += plot::ansi_heatmap(r.value, r.stats.max_abs);
    }
  }
  return out;
}

}  // namespace symlearn::analysis
