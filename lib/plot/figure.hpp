// A figure made of panels laid out left to right and wrapped into rows:
// heatmaps of signed matrices (diverging colours centred on zero, a colour
// bar with its scale) and histograms. The layout is returned with the image
// so that captions and tests can find every panel and every matrix entry.
#pragma once

#include "plot/image.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace symlearn::plot {

struct Panel {
  enum class Kind { heatmap, histogram };
  Kind kind = Kind::heatmap;
  std::string title;     // drawn large, e.g. "U[:,0] as W [18 x 20]"
  std::string subtitle;  // one small line under it (may be empty)

  // heatmap: entry (i, j) is a cell; the scale is [-vmax, vmax] (vmax = 0:
  // max |entry|), or [0, vmax] when `nonnegative` (only the red half is used).
  Eigen::MatrixXd values;
  double vmax = 0;
  bool nonnegative = false;

  // histogram: bins [edges[i], edges[i+1]) with counts[i], on a log axis, and
  // one grey bar on the left for the values below edges.front().
  std::vector<double> edges;
  std::vector<long> counts;
  long below = 0;
};

// Where a panel's plot area ended up. For a heatmap, entry (i, j) covers the
// cell at x + (j / stride) * cell, y + (i / stride) * cell, `cell` pixels square.
struct PanelBox {
  std::string title;
  Panel::Kind kind = Panel::Kind::heatmap;
  int x = 0, y = 0, w = 0, h = 0;
  long rows = 0, cols = 0;
  int cell = 0, stride = 1;
  double vmax = 0;
  bool nonnegative = false;
};

struct Figure {
  Image image;
  std::vector<PanelBox> boxes;
  nlohmann::json layout() const;  // size and boxes, for a caption sidecar
};

// Draws `title` and `caption` lines on top, then the panels, at most
// `max_width` pixels wide.
Figure compose_figure(const std::string& title, const std::vector<std::string>& caption,
                      const std::vector<Panel>& panels, int max_width = 1300);

}  // namespace symlearn::plot
