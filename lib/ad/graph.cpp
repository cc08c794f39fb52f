// The graph itself: Var, Node, leaves, grad mode and the reverse sweep.
#include <algorithm>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "ad/ad.hpp"
#include "ad/internal.hpp"

namespace symlearn::ad {
namespace {

// Global, so that orders stay comparable when threads share leaves. Relaxed is
// enough: a node's inputs were created before it (happens-before), and the
// modification order of one atomic respects that.
std::atomic<std::uint64_t> g_next_order{0};

// Per thread: the tasks of a meta-batch build their graphs on parallel threads.
thread_local bool g_grad_enabled = true;

// During a grad() sweep on this thread: the nodes from which a requested x is
// reachable. Null outside a sweep.
thread_local const std::unordered_set<const Node*>* g_needed = nullptr;

std::shared_ptr<Node> new_node(Mat value, const char* op, bool requires_grad) {
  auto node = std::make_shared<Node>();
  node->value = std::move(value);
  node->op = op;
  node->requires_grad = requires_grad;
  node->order = g_next_order.fetch_add(1, std::memory_order_relaxed);
  return node;
}

}  // namespace

// ---- Node / Var ---------------------------------------------------------------

Node::~Node() {
  // Move our inputs onto an explicit stack; a node popped from it whose last
  // reference we hold gets its own inputs moved here before it dies, so each
  // destructor runs with empty inputs and the release never recurses.
  std::vector<std::shared_ptr<Node>> pending;
  auto take_inputs = [&pending](Node& n) {
    for (const Var& v : n.inputs) {
      if (v.defined()) pending.push_back(v.node());
    }
    n.inputs.clear();
    n.backward = nullptr;  // its captures are copies of the inputs, now held by `pending`
  };
  take_inputs(*this);
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1) take_inputs(*n);
  }
}

const Mat& Var::value() const {
  if (!node_) throw std::logic_error("ad: value() of an undefined Var");
  return node_->value;
}

double Var::item() const {
  const Mat& v = value();
  if (v.rows() != 1 || v.cols() != 1) {
    throw std::invalid_argument("item: shape " + detail::shape_str(v) + " is not [1,1]");
  }
  return v(0, 0);
}

bool Var::requires_grad() const { return node_ && node_->requires_grad; }

Var Var::detach() const { return constant(value()); }

// ---- leaves -------------------------------------------------------------------

Var constant(Mat value) { return Var(new_node(std::move(value), "constant", false)); }

Var param(Mat value) { return Var(new_node(std::move(value), "param", true)); }

Var scalar(double v) { return constant(Mat::Constant(1, 1, v)); }

// ---- grad mode ----------------------------------------------------------------

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }

NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool grad_enabled() { return g_grad_enabled; }

namespace detail {

Var make_op(Mat value, const char* op, std::vector<Var> inputs, BackwardFn backward) {
  const bool record =
      g_grad_enabled &&
      std::any_of(inputs.begin(), inputs.end(), [](const Var& v) { return v.requires_grad(); });
  auto node = new_node(std::move(value), op, record);
  if (record) {
    node->inputs = std::move(inputs);
    node->backward = std::move(backward);
  }
  return Var(std::move(node));
}

bool needs_grad(const Var& v) {
  return v.requires_grad() && (g_needed == nullptr || g_needed->count(v.node().get()) > 0);
}

std::string shape_str(Index rows, Index cols) {
  return "[" + std::to_string(rows) + "," + std::to_string(cols) + "]";
}

std::string shape_str(const Mat& m) { return shape_str(m.rows(), m.cols()); }

}  // namespace detail

// ---- reverse sweep --------------------------------------------------------------

namespace {

// Every node reachable from y through inputs that require grad (y included),
// by an explicit-stack DFS: graphs can be chains far deeper than the C++ stack.
std::vector<std::shared_ptr<Node>> reachable(const Var& y) {
  std::vector<std::shared_ptr<Node>> nodes;
  if (!y.requires_grad()) return nodes;
  std::unordered_set<const Node*> seen{y.node().get()};
  std::vector<const Node*> stack{y.node().get()};
  nodes.push_back(y.node());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const Var& in : n->inputs) {
      if (in.requires_grad() && seen.insert(in.node().get()).second) {
        nodes.push_back(in.node());
        stack.push_back(in.node().get());
      }
    }
  }
  return nodes;
}

}  // namespace

std::vector<Var> grad(const Var& y, const std::vector<Var>& xs, bool create_graph) {
  if (!y.defined()) throw std::invalid_argument("grad: y is undefined");
  if (y.rows() != 1 || y.cols() != 1) {
    throw std::invalid_argument("grad: y must be [1,1], got " + detail::shape_str(y.value()));
  }
  for (const Var& x : xs) {
    if (!x.defined()) throw std::invalid_argument("grad: an x is undefined");
  }

  // Creation order is topological, so a node's gradient is complete once all
  // nodes created after it have been processed.
  std::vector<std::shared_ptr<Node>> nodes = reachable(y);
  std::sort(nodes.begin(), nodes.end(),
            [](const auto& a, const auto& b) { return a->order > b->order; });

  std::unordered_set<const Node*> wanted;
  for (const Var& x : xs) wanted.insert(x.node().get());

  // Prune: only nodes from which some x is reachable need a gradient. In
  // creation order every input comes before its node, so one pass decides.
  std::unordered_set<const Node*> needed;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const Node* n = it->get();
    bool need = wanted.count(n) > 0;
    for (const Var& in : n->inputs) need = need || needed.count(in.node().get()) > 0;
    if (need) needed.insert(n);
  }
  struct Scope {
    const std::unordered_set<const Node*>* saved;
    explicit Scope(const std::unordered_set<const Node*>* set) : saved(g_needed) { g_needed = set; }
    ~Scope() { g_needed = saved; }
  } scope(&needed);

  // Without create_graph the rules run on constants and record nothing.
  std::optional<NoGradGuard> no_grad;
  if (!create_graph) no_grad.emplace();

  std::unordered_map<const Node*, Var> grads;
  grads.emplace(y.node().get(), constant(Mat::Ones(1, 1)));

  for (const std::shared_ptr<Node>& node : nodes) {
    auto it = grads.find(node.get());
    if (it == grads.end() || !node->backward || needed.count(node.get()) == 0)
      continue;  // no gradient flows here, a leaf, or nothing requested lies below
    const Var g = it->second;
    if (wanted.count(node.get()) == 0) grads.erase(it);  // free intermediate gradients early

    const std::vector<Var> in_grads = node->backward(Var(node), g);
    if (in_grads.size() != node->inputs.size()) {
      throw std::logic_error(std::string("grad: backward of ") + node->op +
                             " returned the wrong number of gradients");
    }
    for (std::size_t i = 0; i < in_grads.size(); ++i) {
      const Var& in = node->inputs[i];
      const Var& gi = in_grads[i];
      if (!gi.defined() || needed.count(in.node().get()) == 0) continue;
      if (gi.rows() != in.rows() || gi.cols() != in.cols()) {
        throw std::logic_error(std::string("grad: backward of ") + node->op + " returned " +
                               detail::shape_str(gi.value()) + " for an input of shape " +
                               detail::shape_str(in.value()));
      }
      auto [pos, inserted] = grads.try_emplace(in.node().get(), gi);
      if (!inserted) pos->second = add(pos->second, gi);  // several paths meet here
    }
  }

  std::vector<Var> result;
  result.reserve(xs.size());
  for (const Var& x : xs) {
    auto it = grads.find(x.node().get());
    result.push_back(it != grads.end() ? it->second : constant(Mat::Zero(x.rows(), x.cols())));
  }
  return result;
}

}  // namespace symlearn::ad
