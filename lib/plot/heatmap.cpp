#include "plot/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace symlearn::plot {

Rgb diverging(double t) {
  // RdBu from blue (-1) to red (+1).
  static const Rgb stops[11] = {{5, 48, 97},     {33, 102, 172},  {67, 147, 195}, {146, 197, 222},
                                {209, 229, 240}, {247, 247, 247}, {253, 219, 199}, {244, 165, 130},
                                {214, 96, 77},   {178, 24, 43},   {103, 0, 31}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, -1.0, 1.0);
  const double pos = (t + 1.0) * 5.0;  // 0 .. 10
  const int i = std::min(static_cast<int>(pos), 9);
  const double f = pos - i;
  auto mix = [f](std::uint8_t a, std::uint8_t b) {
    return static_cast<std::uint8_t>(std::lround(a + (static_cast<double>(b) - a) * f));
  };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g), mix(stops[i].b, stops[i + 1].b)};
}

Eigen::MatrixXd block_reduce(const Eigen::MatrixXd& a, int stride) {
  if (stride <= 1) return a;
  const Eigen::Index r = (a.rows() + stride - 1) / stride, c = (a.cols() + stride - 1) / stride;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(r, c);
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      double& o = out(i / stride, j / stride);
      if (std::abs(a(i, j)) > std::abs(o)) o = a(i, j);
    }
  return out;
}

int fit_stride(long rows, long cols, int limit) {
  const long big = std::max(rows, cols);
  return static_cast<int>(std::max<long>(1, (big + limit - 1) / limit));
}

std::string ansi_heatmap(const Eigen::MatrixXd& a, double vmax, int max_cols, int max_lines) {
  const int stride = std::max(fit_stride(a.cols(), 1, max_cols), fit_stride(a.rows(), 1, 2 * max_lines));
  Eigen::MatrixXd b = block_reduce(a, stride);
  // Small matrices are enlarged (each entry zoom x zoom half blocks) to be legible.
  if (stride == 1 && b.size() > 0) {
    const long zoom = std::clamp<long>(std::min<long>(max_cols / b.cols(), 2L * max_lines / b.rows()), 1, 3);
    if (zoom > 1) {
      Eigen::MatrixXd z(b.rows() * zoom, b.cols() * zoom);
      for (Eigen::Index j = 0; j < z.cols(); ++j)
        for (Eigen::Index i = 0; i < z.rows(); ++i) z(i, j) = b(i / zoom, j / zoom);
      b = z;
    }
  }
  std::string out;
  char buf[64];
  for (Eigen::Index i = 0; i < b.rows(); i += 2) {
    for (Eigen::Index j = 0; j < b.cols(); ++j) {
      const Rgb top = diverging(b(i, j), vmax);
      std::snprintf(buf, sizeof buf, "\033[38;2;%d;%d;%dm", top.r, top.g, top.b);
      out += buf;
      if (i + 1 < b.rows()) {
        const Rgb bottom = diverging(b(i + 1, j), vmax);
        std::snprintf(buf, sizeof buf, "\033[48;2;%d;%d;%dm", bottom.r, bottom.g, bottom.b);
        out += buf;
      }
      out += "\u2580";  // upper half block
      if (i + 1 >= b.rows()) out += "\033[0m";
    }
    out += "\033[0m\n";
  }
  // Legend: the colour scale from -vmax to +vmax.
  out += "  ";
  for (int k = -8; k <= 8; ++k) {
    const Rgb c = diverging(k / 8.0);
    std::snprintf(buf, sizeof buf, "\033[48;2;%d;%d;%dm \033[0m", c.r, c.g, c.b);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "  -%.3g .. 0 .. +%.3g", vmax, vmax);
  out += buf;
  if (stride > 1) out += "  (" + std::to_string(stride) + "x" + std::to_string(stride) + " blocks: largest |entry|)";
  out += "\n";
  return out;
}

}  // namespace symlearn::plot
