// Heatmaps of signed matrices: a diverging colour map centred on zero, the
// block reduction that shrinks a large matrix to what fits on screen, and the
// same picture as Unicode half blocks with 24-bit ANSI colours for terminals.
#pragma once

#include "plot/image.hpp"

#include <Eigen/Dense>

#include <string>

namespace symlearn::plot {

// Diverging colour map (ColorBrewer RdBu, 11 classes, interpolated): t = -1
// dark blue, 0 near-white (247,247,247), +1 dark red; t is clamped to [-1, 1].
Rgb diverging(double t);

// Colour of `value` on a scale symmetric about zero with |value| = vmax at
// the ends; vmax <= 0 maps everything to the centre colour.
inline Rgb diverging(double value, double vmax) { return diverging(vmax > 0 ? value / vmax : 0.0); }

// Shrinks `a` by `stride` in both directions: each output entry is the entry
// of largest magnitude in its stride x stride block (sign kept), so isolated
// large entries stay visible.
Eigen::MatrixXd block_reduce(const Eigen::MatrixXd& a, int stride);

// The stride that makes max(rows, cols) fit in `limit`.
int fit_stride(long rows, long cols, int limit);

// A text heatmap: two matrix rows per line (upper half block, foreground =
// upper row, background = lower row), at most `max_cols` wide and
// `max_lines` tall after block reduction, followed by a one-line legend.
std::string ansi_heatmap(const Eigen::MatrixXd& a, double vmax, int max_cols = 72, int max_lines = 24);

}  // namespace symlearn::plot
