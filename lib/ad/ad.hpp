// Reverse-mode automatic differentiation over dense Eigen matrices.
//
// Every value is a 2-D double matrix (a Var). Ops record their inputs and a
// backward rule on a graph; grad() walks the graph in reverse creation order
// (creation order is already topological, so no recursion and no sort of a
// DAG is needed beyond ordering the reachable nodes). Backward rules are
// written with the same differentiable ops, so with create_graph = true the
// returned gradients are themselves Vars on the graph and can be
// differentiated again (second-order MAML, Hessian-vector products).
//
// vec/unvec/reshape are column-major, as in the papers' vec(W).
#pragma once

#include <Eigen/Dense>
#include <Eigen/Sparse>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace symlearn::ad {

using Mat = Eigen::MatrixXd;
using Index = Eigen::Index;

struct Node;

// A handle on a graph node. Cheap to copy (shared ownership).
class Var {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  const Mat& value() const;
  Index rows() const { return value().rows(); }
  Index cols() const { return value().cols(); }
  // The single entry of a 1x1 Var (throws otherwise).
  double item() const;
  bool requires_grad() const;
  bool defined() const { return static_cast<bool>(node_); }
  // A constant with the same value, cut from the graph.
  Var detach() const;
  const std::shared_ptr<Node>& node() const { return node_; }

 private:
  std::shared_ptr<Node> node_;
};

// Given the node's own output and the gradient flowing into it, return one
// gradient per input (an undefined Var where an input needs none).
using BackwardFn = std::function<std::vector<Var>(const Var& out, const Var& grad_out)>;

struct Node {
  Mat value;
  std::vector<Var> inputs;   // empty for leaves and for results computed without grad
  BackwardFn backward;       // empty for leaves
  bool requires_grad = false;
  std::uint64_t order = 0;   // creation counter: a topological order of the graph
  const char* op = "leaf";

  // Releases long input chains iteratively (a recursive release of a
  // 100000-op chain would overflow the stack).
  ~Node();
};

// Leaves.
Var constant(Mat value);
Var param(Mat value);  // a leaf that gradients are taken with respect to
Var scalar(double v);  // 1x1 constant

// While a NoGradGuard lives, ops on this thread record no graph.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

// Gradients of the scalar (1x1) y with respect to xs. An x that y does not
// depend on gets zeros of its shape. With create_graph the results are on the
// graph (differentiable); without it they are constants.
std::vector<Var> grad(const Var& y, const std::vector<Var>& xs, bool create_graph = false);

// ---- ops -------------------------------------------------------------------
// Shapes are checked; a mismatch throws std::invalid_argument naming the op.

Var matmul(const Var& a, const Var& b);
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);  // elementwise
Var div(const Var& a, const Var& b);  // elementwise
Var neg(const Var& a);
Var scale(const Var& a, double c);
Var add_scalar(const Var& a, double c);
Var transpose(const Var& a);
Var reshape(const Var& a, Index rows, Index cols);  // column-major
Var vec(const Var& a);                              // rows*cols x 1, column-major
Var unvec(const Var& a, Index rows, Index cols);    // inverse of vec
Var kron(const Var& a, const Var& b);

Var block(const Var& a, Index row, Index col, Index nrows, Index ncols);
Var rows(const Var& a, Index start, Index count);
Var cols(const Var& a, Index start, Index count);
// Place a into a zero matrix of size total_rows x total_cols at (row, col).
Var pad(const Var& a, Index row, Index col, Index total_rows, Index total_cols);
Var concat_rows(const std::vector<Var>& parts);  // stacked vertically
// out.row(r) = a.row(index[r]), or zeros where index[r] < 0 (e.g. the zero
// padding of a shifted image); out has index.size() rows.
Var gather_rows(const Var& a, const std::vector<Index>& index);
// The adjoint of gather_rows: out (rows x a.cols()) starts at zero and
// out.row(index[r]) += a.row(r) for every r with index[r] >= 0.
Var scatter_rows(const Var& a, const std::vector<Index>& index, Index rows);
Var concat_cols(const std::vector<Var>& parts);  // side by side

// A constant sparse linear map and its adjoint, built once by the caller (an
// average pooling). sparse_matmul(s, a) = s.forward * a; its backward is the
// adjoint's product, and that one's the forward's: double backward for free.
struct SparseMap {
  Eigen::SparseMatrix<double, Eigen::RowMajor> forward, adjoint;
  explicit SparseMap(Eigen::SparseMatrix<double, Eigen::RowMajor> s);
};
Var sparse_matmul(const std::shared_ptr<const SparseMap>& s, const Var& a);

// 2-D convolution by an index map (any kernel, padding, stride): output row n
// at kernel offset k reads input row index[k * outputs + n] (-1: padding).
// The dictionary w is (offsets * C) x F, row c * offsets + k. The three ops
// are bilinear and each one's partial derivatives are the other two, so
// double backward comes for free; none materialises the im2col matrix (it is
// built a chunk of rows at a time, in cache).
struct ConvMap {
  std::vector<Index> index;
  Index offsets = 0, outputs = 0, inputs = 0;
};
// x (inputs x C), w -> outputs x F: out[n] = sum_{c,k} x[index[k,n], c] w[c*offsets + k]
Var conv_map(const Var& x, const Var& w, const std::shared_ptr<const ConvMap>& map);
// u (outputs x F), w -> inputs x C: the adjoint of conv_map in x (a transposed convolution)
Var conv_map_transpose(const Var& u, const Var& w, const std::shared_ptr<const ConvMap>& map);
// x (inputs x C), u (outputs x F) -> (offsets C) x F: the adjoint of conv_map in w
Var conv_map_weight(const Var& x, const Var& u, const std::shared_ptr<const ConvMap>& map);

// The orthogonal polar factor Q = U V^T of a square A = U S V^T. Its
// backward (the adjoint of dQ, which needs s_i + s_j > 0: A of full rank, or
// one zero singular value) is exact, but treats the singular vectors as
// constants, so the graph it builds is right for first derivatives only.
Var polar(const Var& a);
// The nuclear norm sum_i s_i(A) of a square A (1x1). Its gradient is polar(A),
// so its Hessian is polar's derivative: right to second order.
Var nuclear_norm(const Var& a);

Var sum(const Var& a);       // 1x1
Var mean(const Var& a);      // 1x1
Var col_sums(const Var& a);  // 1 x cols: the sum down each column
Var row_sums(const Var& a);  // rows x 1: the sum along each row
Var broadcast(const Var& s, Index rows, Index cols);  // 1x1 -> rows x cols
Var repeat_rows(const Var& r, Index n);  // 1 x c -> n x c
Var repeat_cols(const Var& c, Index n);  // r x 1 -> r x n
Var add_row(const Var& a, const Var& row);  // a + row broadcast down the rows (a bias)

Var square(const Var& a);
Var exp(const Var& a);
Var log(const Var& a);
Var tanh(const Var& a);
Var sigmoid(const Var& a);
Var relu(const Var& a);
Var abs(const Var& a);  // derivative sign(x) (0 at 0), second derivative 0
Var softmax_rows(const Var& a);
Var log_softmax_rows(const Var& a);

// mean((pred - target)^2) over all entries.
Var mse_loss(const Var& pred, const Var& target);
// mean |pred - target| over all entries.
Var l1_loss(const Var& pred, const Var& target);
// mean over rows i of -log softmax(logits)[i, labels[i]].
Var softmax_cross_entropy(const Var& logits, const std::vector<int>& labels);

inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator-(const Var& a) { return neg(a); }
inline Var operator*(double c, const Var& a) { return scale(a, c); }

}  // namespace symlearn::ad
