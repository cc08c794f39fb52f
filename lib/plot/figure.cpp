#include "plot/figure.hpp"

#include "plot/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace symlearn::plot {

namespace {

constexpr int kMargin = 14;      // around the figure and between panels
constexpr int kHeatmapSide = 300;  // the larger side of a heatmap, in pixels
constexpr int kBarGap = 10, kBarW = 14;
constexpr int kHistW = 320, kHistH = 150;
const Rgb kInk{40, 40, 40};
const Rgb kFrame{150, 150, 150};
const Rgb kBarColour{70, 110, 160};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string decade_label(double edge) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "1e%d", static_cast<int>(std::lround(std::log10(edge))));
  return buf;
}

bool is_decade(double edge) {
  const double l = std::log10(edge);
  return std::abs(l - std::round(l)) < 1e-9;
}

// A panel measured before it is drawn.
struct Placed {
  const Panel* panel = nullptr;
  int w = 0, h = 0;             // whole panel
  int plot_w = 0, plot_h = 0;   // its plot area
  int cell = 1, stride = 1;
  Eigen::MatrixXd shown;        // the heatmap after block reduction
  double vmax = 0;
};

constexpr int kTitleScale = 2;
// Room for the title and one subtitle line, reserved even when empty so that
// panels in a row line up.
int title_h(const Panel&) { return kGlyphH * kTitleScale + 4 + kGlyphH + 6; }

Placed measure(const Panel& p) {
  Placed m;
  m.panel = &p;
  int right = 0, below = 0;
  if (p.kind == Panel::Kind::heatmap) {
    m.stride = fit_stride(p.values.rows(), p.values.cols(), kHeatmapSide);
    m.shown = block_reduce(p.values, m.stride);
    const long big = std::max<long>({m.shown.rows(), m.shown.cols(), 1});
    m.cell = std::clamp<int>(static_cast<int>(kHeatmapSide / big), 1, 24);
    m.plot_w = static_cast<int>(m.shown.cols()) * m.cell;
    m.plot_h = static_cast<int>(m.shown.rows()) * m.cell;
    m.vmax = p.vmax > 0 ? p.vmax : p.values.size() ? p.values.cwiseAbs().maxCoeff() : 0.0;
    right = kBarGap + kBarW + 4 + text_width("+" + fmt(m.vmax)) + 2;
    below = std::max(0, 80 - m.plot_h);  // the colour bar is at least 80 pixels
    below += kGlyphH + 6;                // the "rows x cols" line under the map
  } else {
    m.plot_w = kHistW;
    m.plot_h = kHistH;
    right = 0;
    below = kGlyphH + 8;  // decade labels
  }
  m.w = std::max({m.plot_w + right, text_width(p.title, kTitleScale), text_width(p.subtitle)});
  m.h = title_h(p) + 6 + m.plot_h + below;
  return m;
}

void draw_heatmap(Image& img, const Placed& m, int x, int y, PanelBox& box) {
  const Panel& p = *m.panel;
  for (Eigen::Index i = 0; i < m.shown.rows(); ++i)
    for (Eigen::Index j = 0; j < m.shown.cols(); ++j)
      img.fill(x + static_cast<int>(j) * m.cell, y + static_cast<int>(i) * m.cell, m.cell, m.cell,
               diverging(m.shown(i, j), m.vmax));
  img.frame(x - 1, y - 1, m.plot_w + 2, m.plot_h + 2, kFrame);
  // Colour bar: top = +vmax, bottom = -vmax (or 0 when nonnegative).
  const int bx = x + m.plot_w + kBarGap, bh = std::max(m.plot_h, 80);
  for (int k = 0; k < bh; ++k) {
    const double f = 1.0 - static_cast<double>(k) / (bh - 1);  // 1 at the top, 0 at the bottom
    img.fill(bx, y + k, kBarW, 1, diverging(p.nonnegative ? f : 2 * f - 1));
  }
  img.frame(bx - 1, y - 1, kBarW + 2, bh + 2, kFrame);
  const int lx = bx + kBarW + 4;
  draw_text(img, lx, y, (p.nonnegative ? "" : "+") + fmt(m.vmax), kInk);
  if (p.nonnegative) {
    draw_text(img, lx, y + bh - kGlyphH, "0", kInk);
  } else {
    draw_text(img, lx, y + bh / 2 - kGlyphH / 2, "0", kInk);
    draw_text(img, lx, y + bh - kGlyphH, "-" + fmt(m.vmax), kInk);
  }
  std::string dims = std::to_string(p.values.rows()) + " x " + std::to_string(p.values.cols());
  if (m.stride > 1) dims += " (" + std::to_string(m.stride) + "x" + std::to_string(m.stride) + " blocks, max |.|)";
  draw_text(img, x, y + std::max(m.plot_h, bh) + 4, dims, kInk);
  box.rows = p.values.rows();
  box.cols = p.values.cols();
  box.cell = m.cell;
  box.stride = m.stride;
  box.vmax = m.vmax;
  box.nonnegative = p.nonnegative;
}

void draw_histogram(Image& img, const Placed& m, int x, int y) {
  const Panel& p = *m.panel;
  const int nb = static_cast<int>(p.counts.size()) + 1;  // + the "below" bar
  const int bw = std::max(1, (m.plot_w - 8) / nb);
  long top = p.below;
  for (long c : p.counts) top = std::max(top, c);
  img.frame(x - 1, y - 1, m.plot_w + 2, m.plot_h + 2, kFrame);
  const int area = m.plot_h - kGlyphH - 6;  // leave room for the count label
  auto bar = [&](int k, long count, Rgb colour) {
    const int bh = top > 0 ? static_cast<int>(std::lround(static_cast<double>(count) / top * area)) : 0;
    const int bx = x + 4 + k * bw + (k > 0 ? 4 : 0);
    img.fill(bx + 1, y + m.plot_h - bh, bw - 2, bh, colour);
    if (count > 0 && bh == 0) img.fill(bx + 1, y + m.plot_h - 1, bw - 2, 1, colour);  // non-empty: visible
  };
  bar(0, p.below, kGrey);
  for (int k = 0; k < static_cast<int>(p.counts.size()); ++k) bar(k + 1, p.counts[k], kBarColour);
  draw_text(img, x + 3, y + 3, "max " + std::to_string(top), kInk);
  // Decade labels under the left edges of their bins; skip ones that would overlap.
  int next_free = x;
  for (std::size_t k = 0; k < p.edges.size(); ++k) {
    if (!is_decade(p.edges[k])) continue;
    const std::string s = decade_label(p.edges[k]);
    const int ex = x + 4 + static_cast<int>(k + 1) * bw + 4;
    const int lx = ex - text_width(s) / 2;
    if (lx < next_free) continue;
    img.fill(ex, y + m.plot_h, 1, 3, kInk);
    draw_text(img, lx, y + m.plot_h + 4, s, kInk);
    next_free = lx + text_width(s) + 6;
  }
}

}  // namespace

nlohmann::json Figure::layout() const {
  nlohmann::json panels = nlohmann::json::array();
  for (const auto& b : boxes) {
    nlohmann::json j = {{"title", b.title},
                        {"kind", b.kind == Panel::Kind::heatmap ? "heatmap" : "histogram"},
                        {"x", b.x}, {"y", b.y}, {"w", b.w}, {"h", b.h}};
    if (b.kind == Panel::Kind::heatmap) {
      j["rows"] = b.rows;
      j["cols"] = b.cols;
      j["cell"] = b.cell;
      j["stride"] = b.stride;
      j["vmax"] = b.vmax;
      j["scale"] = b.nonnegative ? "0 (near-white) .. vmax (dark red)" : "-vmax (dark blue) .. 0 (near-white) .. +vmax (dark red)";
    }
    panels.push_back(j);
  }
  return {{"width", image.width()}, {"height", image.height()}, {"panels", panels}};
}

Figure compose_figure(const std::string& title, const std::vector<std::string>& caption,
                      const std::vector<Panel>& panels, int max_width) {
  std::vector<Placed> placed;
  for (const auto& p : panels) placed.push_back(measure(p));

  // Flow layout: rows of panels, each row as tall as its tallest panel.
  int header = kMargin + kGlyphH * kTitleScale + 6 + static_cast<int>(caption.size()) * (kGlyphH + 5) + 6;
  int width = std::max(text_width(title, kTitleScale), 0) + 2 * kMargin;
  for (const auto& c : caption) width = std::max(width, text_width(c) + 2 * kMargin);
  std::vector<std::pair<int, int>> origin(placed.size());
  int x = kMargin, y = header, row_h = 0;
  for (std::size_t k = 0; k < placed.size(); ++k) {
    if (x > kMargin && x + placed[k].w + kMargin > max_width) {
      x = kMargin;
      y += row_h + 2 * kMargin;
      row_h = 0;
    }
    origin[k] = {x, y};
    x += placed[k].w + 2 * kMargin;
    row_h = std::max(row_h, placed[k].h);
    width = std::max(width, origin[k].first + placed[k].w + kMargin);
  }
  const int height = y + row_h + kMargin;

  Figure fig;
  fig.image = Image(width, height, kWhite);
  draw_text(fig.image, kMargin, kMargin, title, kBlack, kTitleScale);
  int cy = kMargin + kGlyphH * kTitleScale + 6;
  for (const auto& c : caption) {
    draw_text(fig.image, kMargin, cy, c, kInk);
    cy += kGlyphH + 5;
  }
  for (std::size_t k = 0; k < placed.size(); ++k) {
    const Placed& m = placed[k];
    const Panel& p = *m.panel;
    const int px = origin[k].first, py = origin[k].second;
    draw_text(fig.image, px, py, p.title, kBlack, kTitleScale);
    if (!p.subtitle.empty()) draw_text(fig.image, px, py + kGlyphH * kTitleScale + 4, p.subtitle, kInk);
    PanelBox box;
    box.title = p.title;
    box.kind = p.kind;
    box.x = px;
    box.y = py + title_h(p) + 6;
    box.w = m.plot_w;
    box.h = m.plot_h;
    if (p.kind == Panel::Kind::heatmap)
      draw_heatmap(fig.image, m, box.x, box.y, box);
    else
      draw_histogram(fig.image, m, box.x, box.y);
    fig.boxes.push_back(box);
  }
  return fig;
}

}  // namespace symlearn::plot
