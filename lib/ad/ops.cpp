// The differentiable ops. Every backward rule is written with these same ops,
// so gradients computed with create_graph can be differentiated again.
//
// Rules receive the op's output as `out` rather than capturing it (a captured
// output would own itself through its own node: a shared_ptr cycle), and
// return an undefined Var for inputs that need no gradient.
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "ad/ad.hpp"
#include "ad/internal.hpp"
#include "linalg/gemm.hpp"

#include <Eigen/SVD>

namespace symlearn::ad {

using detail::make_op;
using detail::needs_grad;
using detail::shape_str;

namespace {

using Grads = std::vector<Var>;

[[noreturn]] void shape_error(const char* op, const Mat& a, const Mat& b) {
  throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " +
                              shape_str(b) + " do not fit");
}

[[noreturn]] void arg_error(const char* op, const std::string& what) {
  throw std::invalid_argument(std::string(op) + ": " + what);
}

void require_same_shape(const char* op, const Var& a, const Var& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) shape_error(op, a.value(), b.value());
}

void require_nonnegative(const char* op, Index v, const char* name) {
  if (v < 0) arg_error(op, std::string(name) + " = " + std::to_string(v) + " is negative");
}

// Column-major reshape, shared by reshape / vec / unvec.
Var reshape_impl(const char* op, const Var& a, Index rows, Index cols) {
  require_nonnegative(op, rows, "rows");
  require_nonnegative(op, cols, "cols");
  if (rows * cols != a.value().size()) {
    arg_error(op, "cannot reshape " + shape_str(a.value()) + " to " + shape_str(rows, cols));
  }
  Mat out = Eigen::Map<const Mat>(a.value().data(), rows, cols);
  const Index in_rows = a.rows();
  const Index in_cols = a.cols();
  return make_op(std::move(out), op, {a}, [in_rows, in_cols](const Var&, const Var& g) {
    return Grads{reshape(g, in_rows, in_cols)};
  });
}

void require_block_fits(const char* op, Index row, Index col, Index nrows, Index ncols,
                        Index total_rows, Index total_cols) {
  if (row < 0 || col < 0 || nrows < 0 || ncols < 0 || row + nrows > total_rows ||
      col + ncols > total_cols) {
    arg_error(op, "block " + shape_str(nrows, ncols) + " at (" + std::to_string(row) + "," +
                      std::to_string(col) + ") does not fit in " +
                      shape_str(total_rows, total_cols));
  }
}

Var block_impl(const char* op, const Var& a, Index row, Index col, Index nrows, Index ncols) {
  require_block_fits(op, row, col, nrows, ncols, a.rows(), a.cols());
  Mat out = a.value().block(row, col, nrows, ncols);
  const Index total_rows = a.rows();
  const Index total_cols = a.cols();
  return make_op(std::move(out), op, {a},
                 [row, col, total_rows, total_cols](const Var&, const Var& g) {
                   return Grads{pad(g, row, col, total_rows, total_cols)};
                 });
}

// Rows (stack_rows) or columns of g that belong to each part of a concat.
Var concat_impl(const char* op, const std::vector<Var>& parts, bool stack_rows) {
  if (parts.empty()) arg_error(op, "no parts");
  Index total = 0;
  for (const Var& p : parts) {
    const bool fits = stack_rows ? p.cols() == parts[0].cols() : p.rows() == parts[0].rows();
    if (!fits) shape_error(op, parts[0].value(), p.value());
    total += stack_rows ? p.rows() : p.cols();
  }
  Mat out = stack_rows ? Mat(total, parts[0].cols()) : Mat(parts[0].rows(), total);
  // Offsets and extents only: the rule needs no part's value.
  std::vector<std::pair<Index, Index>> spans;
  std::vector<bool> needs;
  Index offset = 0;
  for (const Var& p : parts) {
    const Index extent = stack_rows ? p.rows() : p.cols();
    if (stack_rows) {
      out.middleRows(offset, extent) = p.value();
    } else {
      out.middleCols(offset, extent) = p.value();
    }
    spans.emplace_back(offset, extent);
    needs.push_back(p.requires_grad());
    offset += extent;
  }
  return make_op(std::move(out), op, parts,
                 [spans, needs, stack_rows](const Var&, const Var& g) {
                   Grads result(spans.size());
                   for (std::size_t i = 0; i < spans.size(); ++i) {
                     if (!needs[i]) continue;
                     result[i] = stack_rows ? rows(g, spans[i].first, spans[i].second)
                                            : cols(g, spans[i].first, spans[i].second);
                   }
                   return result;
                 });
}

// Elementwise op with a rule of the form g -> rule(g, a, out).
template <typename Rule>
Var unary(const char* op, const Var& a, Mat out, Rule rule) {
  return make_op(std::move(out), op, {a},
                 [a, rule](const Var& o, const Var& g) { return Grads{rule(g, a, o)}; });
}

}  // namespace

// ---- products -------------------------------------------------------------------

namespace detail {

Var matmul_t(const Var& a, const Var& b, bool ta, bool tb) {
  const Index ka = ta ? a.rows() : a.cols();
  const Index kb = tb ? b.cols() : b.rows();
  if (ka != kb) shape_error("matmul", a.value(), b.value());
  Mat out = linalg::gemm(a.value(), b.value(), ta, tb);
  // C = op(A) op(B): dop(A) = G op(B)^T and dop(B) = op(A)^T G, each written
  // back in the stored orientation of A and B.
  return make_op(std::move(out), "matmul", {a, b}, [a, b, ta, tb](const Var&, const Var& g) {
    Grads result(2);
    if (needs_grad(a)) result[0] = ta ? matmul_t(b, g, tb, true) : matmul_t(g, b, false, !tb);
    if (needs_grad(b)) result[1] = tb ? matmul_t(g, a, true, ta) : matmul_t(a, g, !ta, false);
    return result;
  });
}

Var kron_grad_left(const Var& g, const Var& b, Index m, Index n) {
  const Index p = b.rows();
  const Index q = b.cols();
  if (g.rows() != m * p || g.cols() != n * q) shape_error("kron_grad_left", g.value(), b.value());
  Mat out(m, n);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < m; ++i) {
      out(i, j) = g.value().block(i * p, j * q, p, q).cwiseProduct(b.value()).sum();
    }
  }
  // Bilinear in (G, B); upstream H is m x n.
  return make_op(std::move(out), "kron_grad_left", {g, b}, [g, b](const Var&, const Var& h) {
    Grads result(2);
    if (needs_grad(g)) result[0] = kron(h, b);
    if (needs_grad(b)) result[1] = kron_grad_right(g, h, b.rows(), b.cols());
    return result;
  });
}

Var kron_grad_right(const Var& g, const Var& a, Index p, Index q) {
  const Index m = a.rows();
  const Index n = a.cols();
  if (g.rows() != m * p || g.cols() != n * q) shape_error("kron_grad_right", g.value(), a.value());
  Mat out = Mat::Zero(p, q);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < m; ++i) out += a.value()(i, j) * g.value().block(i * p, j * q, p, q);
  }
  // Bilinear in (G, A); upstream H is p x q.
  return make_op(std::move(out), "kron_grad_right", {g, a}, [g, a](const Var&, const Var& h) {
    Grads result(2);
    if (needs_grad(g)) result[0] = kron(a, h);
    if (needs_grad(a)) result[1] = kron_grad_left(g, h, a.rows(), a.cols());
    return result;
  });
}

}  // namespace detail

Var matmul(const Var& a, const Var& b) { return detail::matmul_t(a, b, false, false); }

Var kron(const Var& a, const Var& b) {
  const Index m = a.rows();
  const Index n = a.cols();
  const Index p = b.rows();
  const Index q = b.cols();
  Mat out(m * p, n * q);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < m; ++i) out.block(i * p, j * q, p, q) = a.value()(i, j) * b.value();
  }
  return make_op(std::move(out), "kron", {a, b}, [a, b](const Var&, const Var& g) {
    Grads result(2);
    if (needs_grad(a)) result[0] = detail::kron_grad_left(g, b, a.rows(), a.cols());
    if (needs_grad(b)) result[1] = detail::kron_grad_right(g, a, b.rows(), b.cols());
    return result;
  });
}

// ---- elementwise arithmetic -----------------------------------------------------

Var add(const Var& a, const Var& b) {
  require_same_shape("add", a, b);
  return make_op(a.value() + b.value(), "add", {a, b},
                 [](const Var&, const Var& g) { return Grads{g, g}; });
}

Var sub(const Var& a, const Var& b) {
  require_same_shape("sub", a, b);
  return make_op(a.value() - b.value(), "sub", {a, b}, [b](const Var&, const Var& g) {
    return Grads{g, needs_grad(b) ? neg(g) : Var()};
  });
}

Var mul(const Var& a, const Var& b) {
  require_same_shape("mul", a, b);
  return make_op(a.value().cwiseProduct(b.value()), "mul", {a, b},
                 [a, b](const Var&, const Var& g) {
                   Grads result(2);
                   if (needs_grad(a)) result[0] = mul(g, b);
                   if (needs_grad(b)) result[1] = mul(g, a);
                   return result;
                 });
}

Var div(const Var& a, const Var& b) {
  require_same_shape("div", a, b);
  return make_op(a.value().cwiseQuotient(b.value()), "div", {a, b},
                 [a, b](const Var& out, const Var& g) {
                   Grads result(2);
                   if (needs_grad(a)) result[0] = div(g, b);
                   if (needs_grad(b)) result[1] = neg(div(mul(g, out), b));  // -g a / b^2
                   return result;
                 });
}

Var neg(const Var& a) {
  return make_op(-a.value(), "neg", {a}, [](const Var&, const Var& g) { return Grads{neg(g)}; });
}

Var scale(const Var& a, double c) {
  return make_op(c * a.value(), "scale", {a},
                 [c](const Var&, const Var& g) { return Grads{scale(g, c)}; });
}

Var add_scalar(const Var& a, double c) {
  return make_op((a.value().array() + c).matrix(), "add_scalar", {a},
                 [](const Var&, const Var& g) { return Grads{g}; });
}

// ---- shape ops --------------------------------------------------------------------

Var transpose(const Var& a) {
  return make_op(a.value().transpose(), "transpose", {a},
                 [](const Var&, const Var& g) { return Grads{transpose(g)}; });
}

Var reshape(const Var& a, Index rows, Index cols) {
  return reshape_impl("reshape", a, rows, cols);
}

Var vec(const Var& a) { return reshape_impl("vec", a, a.value().size(), 1); }

Var unvec(const Var& a, Index rows, Index cols) {
  if (a.cols() != 1) arg_error("unvec", "input " + shape_str(a.value()) + " is not a column");
  return reshape_impl("unvec", a, rows, cols);
}

Var block(const Var& a, Index row, Index col, Index nrows, Index ncols) {
  return block_impl("block", a, row, col, nrows, ncols);
}

Var rows(const Var& a, Index start, Index count) {
  return block_impl("rows", a, start, 0, count, a.cols());
}

Var cols(const Var& a, Index start, Index count) {
  return block_impl("cols", a, 0, start, a.rows(), count);
}

Var pad(const Var& a, Index row, Index col, Index total_rows, Index total_cols) {
  require_block_fits("pad", row, col, a.rows(), a.cols(), total_rows, total_cols);
  Mat out = Mat::Zero(total_rows, total_cols);
  out.block(row, col, a.rows(), a.cols()) = a.value();
  const Index nrows = a.rows();
  const Index ncols = a.cols();
  return make_op(std::move(out), "pad", {a}, [row, col, nrows, ncols](const Var&, const Var& g) {
    return Grads{block(g, row, col, nrows, ncols)};
  });
}

Var concat_rows(const std::vector<Var>& parts) { return concat_impl("concat_rows", parts, true); }

Var concat_cols(const std::vector<Var>& parts) { return concat_impl("concat_cols", parts, false); }

// gather_rows and scatter_rows are linear and each other's adjoint, so each
// one's backward rule is the other: double backward comes for free.
Var gather_rows(const Var& a, const std::vector<Index>& index) {
  const Index n = static_cast<Index>(index.size());
  Mat out = Mat::Zero(n, a.cols());
  for (Index r = 0; r < n; ++r) {
    const Index k = index[static_cast<std::size_t>(r)];
    if (k >= a.rows()) arg_error("gather_rows", "index " + std::to_string(k) + " >= " + std::to_string(a.rows()) + " rows");
    if (k >= 0) out.row(r) = a.value().row(k);
  }
  const Index rows = a.rows();
  return make_op(std::move(out), "gather_rows", {a}, [index, rows](const Var&, const Var& g) {
    return Grads{scatter_rows(g, index, rows)};
  });
}

Var scatter_rows(const Var& a, const std::vector<Index>& index, Index rows) {
  require_nonnegative("scatter_rows", rows, "rows");
  if (static_cast<Index>(index.size()) != a.rows())
    arg_error("scatter_rows", std::to_string(index.size()) + " indices for " + std::to_string(a.rows()) + " rows");
  Mat out = Mat::Zero(rows, a.cols());
  for (Index r = 0; r < a.rows(); ++r) {
    const Index k = index[static_cast<std::size_t>(r)];
    if (k >= rows) arg_error("scatter_rows", "index " + std::to_string(k) + " >= " + std::to_string(rows) + " rows");
    if (k >= 0) out.row(k) += a.value().row(r);
  }
  return make_op(std::move(out), "scatter_rows", {a}, [index](const Var&, const Var& g) {
    return Grads{gather_rows(g, index)};
  });
}

// ---- reductions and broadcasts ------------------------------------------------------

Var sum(const Var& a) {
  const Index r = a.rows();
  const Index c = a.cols();
  return make_op(Mat::Constant(1, 1, a.value().sum()), "sum", {a},
                 [r, c](const Var&, const Var& g) { return Grads{broadcast(g, r, c)}; });
}

Var mean(const Var& a) {
  if (a.value().size() == 0) arg_error("mean", "empty input " + shape_str(a.value()));
  return scale(sum(a), 1.0 / static_cast<double>(a.value().size()));
}

Var col_sums(const Var& a) {
  const Index r = a.rows();
  return make_op(a.value().colwise().sum(), "col_sums", {a},
                 [r](const Var&, const Var& g) { return Grads{repeat_rows(g, r)}; });
}

Var row_sums(const Var& a) {
  const Index c = a.cols();
  return make_op(a.value().rowwise().sum(), "row_sums", {a},
                 [c](const Var&, const Var& g) { return Grads{repeat_cols(g, c)}; });
}

Var broadcast(const Var& s, Index rows, Index cols) {
  if (s.rows() != 1 || s.cols() != 1) {
    arg_error("broadcast", "input " + shape_str(s.value()) + " is not [1,1]");
  }
  require_nonnegative("broadcast", rows, "rows");
  require_nonnegative("broadcast", cols, "cols");
  return make_op(Mat::Constant(rows, cols, s.value()(0, 0)), "broadcast", {s},
                 [](const Var&, const Var& g) { return Grads{sum(g)}; });
}

Var repeat_rows(const Var& r, Index n) {
  if (r.rows() != 1) arg_error("repeat_rows", "input " + shape_str(r.value()) + " is not a row");
  require_nonnegative("repeat_rows", n, "n");
  return make_op(r.value().replicate(n, 1), "repeat_rows", {r},
                 [](const Var&, const Var& g) { return Grads{col_sums(g)}; });
}

Var repeat_cols(const Var& c, Index n) {
  if (c.cols() != 1) arg_error("repeat_cols", "input " + shape_str(c.value()) + " is not a column");
  require_nonnegative("repeat_cols", n, "n");
  return make_op(c.value().replicate(1, n), "repeat_cols", {c},
                 [](const Var&, const Var& g) { return Grads{row_sums(g)}; });
}

Var add_row(const Var& a, const Var& row) {
  if (row.rows() != 1 || row.cols() != a.cols()) shape_error("add_row", a.value(), row.value());
  Mat out = a.value().rowwise() + row.value().row(0);
  return make_op(std::move(out), "add_row", {a, row}, [row](const Var&, const Var& g) {
    return Grads{g, needs_grad(row) ? col_sums(g) : Var()};
  });
}

// ---- elementwise functions -------------------------------------------------------------

Var square(const Var& a) {
  return unary("square", a, a.value().array().square().matrix(),
               [](const Var& g, const Var& x, const Var&) { return scale(mul(g, x), 2.0); });
}

Var exp(const Var& a) {
  return unary("exp", a, a.value().array().exp().matrix(),
               [](const Var& g, const Var&, const Var& out) { return mul(g, out); });
}

Var log(const Var& a) {
  return unary("log", a, a.value().array().log().matrix(),
               [](const Var& g, const Var& x, const Var&) { return div(g, x); });
}

Var tanh(const Var& a) {
  return unary("tanh", a, a.value().array().tanh().matrix(),
               [](const Var& g, const Var&, const Var& out) {
                 return sub(g, mul(mul(g, out), out));  // g (1 - out^2)
               });
}

Var sigmoid(const Var& a) {
  // Two branches so that exp never overflows.
  Mat value = a.value().unaryExpr([](double x) {
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
  });
  return unary("sigmoid", a, std::move(value), [](const Var& g, const Var&, const Var& out) {
    const Var g_out = mul(g, out);
    return sub(g_out, mul(g_out, out));  // g out (1 - out)
  });
}

Var relu(const Var& a) {
  return unary("relu", a, a.value().cwiseMax(0.0),
               [](const Var& g, const Var& x, const Var&) {
                 // The mask is piecewise constant in x: a constant, also for double backward.
                 return mul(g, constant((x.value().array() > 0.0).cast<double>().matrix()));
               });
}

Var abs(const Var& a) {
  return unary("abs", a, a.value().cwiseAbs(), [](const Var& g, const Var& x, const Var&) {
    // sign(x) is piecewise constant: a constant, also for double backward.
    return mul(g, constant(x.value().unaryExpr([](double v) { return double((v > 0) - (v < 0)); })));
  });
}

Var softmax_rows(const Var& a) {
  Mat value(a.rows(), a.cols());
  if (a.cols() > 0) {
    // Shift by the row maximum so that exp cannot overflow.
    const Eigen::VectorXd row_max = a.value().rowwise().maxCoeff();
    const Eigen::ArrayXXd e = (a.value().colwise() - row_max).array().exp();
    value = (e.colwise() / e.rowwise().sum()).matrix();
  }
  const Index c = a.cols();
  return unary("softmax_rows", a, std::move(value), [c](const Var& g, const Var&, const Var& out) {
    // out * (g - <g, out> per row)
    return mul(out, sub(g, repeat_cols(row_sums(mul(g, out)), c)));
  });
}

Var log_softmax_rows(const Var& a) {
  Mat value(a.rows(), a.cols());
  if (a.cols() > 0) {
    const Eigen::VectorXd row_max = a.value().rowwise().maxCoeff();
    const Mat shifted = a.value().colwise() - row_max;
    const Eigen::VectorXd log_norm = shifted.array().exp().rowwise().sum().log().matrix();
    value = shifted.colwise() - log_norm;
  }
  const Index c = a.cols();
  return unary("log_softmax_rows", a, std::move(value),
               [c](const Var& g, const Var&, const Var& out) {
                 // g - softmax * (row sums of g); softmax = exp(out)
                 return sub(g, mul(exp(out), repeat_cols(row_sums(g), c)));
               });
}

// ---- losses (composites) --------------------------------------------------------------

Var mse_loss(const Var& pred, const Var& target) {
  require_same_shape("mse_loss", pred, target);
  return mean(square(sub(pred, target)));
}

Var l1_loss(const Var& pred, const Var& target) {
  require_same_shape("l1_loss", pred, target);
  return mean(abs(sub(pred, target)));
}

Var softmax_cross_entropy(const Var& logits, const std::vector<int>& labels) {
  const Index n = logits.rows();
  const Index classes = logits.cols();
  if (static_cast<Index>(labels.size()) != n) {
    arg_error("softmax_cross_entropy", std::to_string(labels.size()) + " labels for " +
                                           std::to_string(n) + " rows of logits");
  }
  if (n == 0) arg_error("softmax_cross_entropy", "no rows");
  Mat onehot = Mat::Zero(n, classes);
  for (Index i = 0; i < n; ++i) {
    const int label = labels[static_cast<std::size_t>(i)];
    if (label < 0 || label >= classes) {
      arg_error("softmax_cross_entropy", "label " + std::to_string(label) + " of row " +
                                             std::to_string(i) + " is outside [0," +
                                             std::to_string(classes) + ")");
    }
    onehot(i, label) = 1.0;
  }
  return scale(sum(mul(log_softmax_rows(logits), constant(std::move(onehot)))),
               -1.0 / static_cast<double>(n));
}

// ---- sparse maps and the polar factor -------------------------------------------

SparseMap::SparseMap(Eigen::SparseMatrix<double, Eigen::RowMajor> s) : forward(std::move(s)) {
  forward.makeCompressed();
  adjoint = forward.transpose();
  adjoint.makeCompressed();
}

namespace {

// s->forward * a, or s->adjoint * a: each is the other's backward rule.
Var sparse_apply(const std::shared_ptr<const SparseMap>& s, bool adjoint, const Var& a) {
  if (!s) arg_error("sparse_matmul", "no map");
  const auto& m = adjoint ? s->adjoint : s->forward;
  if (m.cols() != a.rows())
    arg_error("sparse_matmul", "a map with " + std::to_string(m.cols()) + " columns for " + shape_str(a.value()));
  Mat out = m * a.value();
  return make_op(std::move(out), "sparse_matmul", {a},
                 [s, adjoint](const Var&, const Var& g) { return Grads{sparse_apply(s, !adjoint, g)}; });
}

}  // namespace

Var sparse_matmul(const std::shared_ptr<const SparseMap>& s, const Var& a) { return sparse_apply(s, false, a); }

namespace {

constexpr Index kConvChunk = 256;  // output rows per im2col chunk (256 x 36 doubles: in L1/L2)

// The chunk's im2col rows: p(i, c*offsets + k) = x[index[k, n0 + i], c].
void im2col_chunk(const Mat& x, const ConvMap& m, Index n0, Index rows, Mat& p) {
  const Index c = x.cols();
  p.resize(rows, m.offsets * c);
  for (Index ch = 0; ch < c; ++ch)
    for (Index k = 0; k < m.offsets; ++k) {
      const Index* idx = m.index.data() + k * m.outputs + n0;
      double* out = p.col(ch * m.offsets + k).data();
      const double* src = x.col(ch).data();
      for (Index i = 0; i < rows; ++i) out[i] = idx[i] >= 0 ? src[idx[i]] : 0.0;
    }
}

void check_conv(const char* op, const ConvMap* m, Index rows, Index expect_rows, Index w_rows, Index channels) {
  if (!m) arg_error(op, "no index map");
  if (Index(m->index.size()) != m->offsets * m->outputs) arg_error(op, "the index map is inconsistent");
  if (rows != expect_rows) arg_error(op, std::to_string(rows) + " rows where the map has " + std::to_string(expect_rows));
  if (w_rows >= 0 && w_rows != m->offsets * channels)
    arg_error(op, "a dictionary of " + std::to_string(w_rows) + " rows for " + std::to_string(m->offsets) +
                      " offsets x " + std::to_string(channels) + " channels");
}

}  // namespace

Var conv_map(const Var& x, const Var& w, const std::shared_ptr<const ConvMap>& map) {
  check_conv("conv_map", map.get(), x.rows(), map ? map->inputs : 0, w.rows(), x.cols());
  const ConvMap& m = *map;
  Mat out(m.outputs, w.cols());
  Mat p;
  for (Index n0 = 0; n0 < m.outputs; n0 += kConvChunk) {
    const Index rows = std::min(kConvChunk, m.outputs - n0);
    im2col_chunk(x.value(), m, n0, rows, p);
    out.middleRows(n0, rows).noalias() = p * w.value();
  }
  return make_op(std::move(out), "conv_map", {x, w}, [x, w, map](const Var&, const Var& g) {
    Grads r(2);
    if (needs_grad(x)) r[0] = conv_map_transpose(g, w, map);
    if (needs_grad(w)) r[1] = conv_map_weight(x, g, map);
    return r;
  });
}

Var conv_map_transpose(const Var& u, const Var& w, const std::shared_ptr<const ConvMap>& map) {
  check_conv("conv_map_transpose", map.get(), u.rows(), map ? map->outputs : 0, -1, 0);
  if (w.cols() != u.cols()) shape_error("conv_map_transpose", u.value(), w.value());
  const ConvMap& m = *map;
  if (w.rows() % m.offsets) arg_error("conv_map_transpose", "the dictionary's rows are not a multiple of the offsets");
  const Index c = w.rows() / m.offsets;
  Mat out = Mat::Zero(m.inputs, c);
  Mat q;
  for (Index n0 = 0; n0 < m.outputs; n0 += kConvChunk) {
    const Index rows = std::min(kConvChunk, m.outputs - n0);
    q.noalias() = u.value().middleRows(n0, rows) * w.value().transpose();
    for (Index ch = 0; ch < c; ++ch)
      for (Index k = 0; k < m.offsets; ++k) {
        const Index* idx = m.index.data() + k * m.outputs + n0;
        const double* in = q.col(ch * m.offsets + k).data();
        double* dst = out.col(ch).data();
        for (Index i = 0; i < rows; ++i)
          if (idx[i] >= 0) dst[idx[i]] += in[i];
      }
  }
  return make_op(std::move(out), "conv_map_transpose", {u, w}, [u, w, map](const Var&, const Var& g) {
    Grads r(2);
    if (needs_grad(u)) r[0] = conv_map(g, w, map);
    if (needs_grad(w)) r[1] = conv_map_weight(g, u, map);
    return r;
  });
}

Var conv_map_weight(const Var& x, const Var& u, const std::shared_ptr<const ConvMap>& map) {
  check_conv("conv_map_weight", map.get(), x.rows(), map ? map->inputs : 0, -1, 0);
  if (!map || u.rows() != map->outputs) arg_error("conv_map_weight", "the code's rows do not match the map's outputs");
  const ConvMap& m = *map;
  Mat out = Mat::Zero(m.offsets * x.cols(), u.cols());
  Mat p;
  for (Index n0 = 0; n0 < m.outputs; n0 += kConvChunk) {
    const Index rows = std::min(kConvChunk, m.outputs - n0);
    im2col_chunk(x.value(), m, n0, rows, p);
    out.noalias() += p.transpose() * u.value().middleRows(n0, rows);
  }
  return make_op(std::move(out), "conv_map_weight", {x, u}, [x, u, map](const Var&, const Var& g) {
    Grads r(2);
    if (needs_grad(x)) r[0] = conv_map_transpose(u, g, map);
    if (needs_grad(u)) r[1] = conv_map(x, g, map);
    return r;
  });
}

namespace {

// G -> U skew(K o (U^T G V)) V^T with K_ij = 1 / (s_i + s_j): the adjoint of
// the polar factor's derivative. It is self-adjoint (K is symmetric), so it is
// its own backward rule.
Var polar_adjoint(const Var& g, const std::shared_ptr<const Eigen::JacobiSVD<Mat>>& svd) {
  const Mat& u = svd->matrixU();
  const Mat& v = svd->matrixV();
  const auto& s = svd->singularValues();
  Mat x = u.transpose() * g.value() * v;
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j) {
      const double d = s(i) + s(j);
      x(i, j) = d > 0 ? x(i, j) / d : 0.0;
    }
  Mat out = u * (x - x.transpose()) * v.transpose();
  return make_op(std::move(out), "polar_adjoint", {g},
                 [svd](const Var&, const Var& gg) { return Grads{polar_adjoint(gg, svd)}; });
}

}  // namespace

Var polar(const Var& a) {
  if (a.rows() != a.cols()) arg_error("polar", "input " + shape_str(a.value()) + " is not square");
  auto svd = std::make_shared<const Eigen::JacobiSVD<Mat>>(a.value(), Eigen::ComputeFullU | Eigen::ComputeFullV);
  Mat q = svd->matrixU() * svd->matrixV().transpose();
  return make_op(std::move(q), "polar", {a}, [svd](const Var&, const Var& g) { return Grads{polar_adjoint(g, svd)}; });
}

Var nuclear_norm(const Var& a) {
  if (a.rows() != a.cols()) arg_error("nuclear_norm", "input " + shape_str(a.value()) + " is not square");
  Mat out(1, 1);
  out(0, 0) = Eigen::JacobiSVD<Mat>(a.value()).singularValues().sum();
  return make_op(std::move(out), "nuclear_norm", {a},
                 [a](const Var&, const Var& g) { return Grads{mul(polar(a), broadcast(g, a.rows(), a.cols()))}; });
}

}  // namespace symlearn::ad
