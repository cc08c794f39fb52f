#include "methods/msr/maml.hpp"

#include "methods/msr/fused.hpp"

#include <stdexcept>

namespace symlearn::msr {

using ad::Var;

namespace {
// lr * g with lr a constant, a learned scalar (1x1) or learned per entry.
Var scaled_step(const msr::MetaModel& model, const std::vector<Var>& p, int adapted, const Var& g) {
  const int lr = model.inner_lr_of(adapted);
  if (lr < 0) return ad::scale(g, model.arch.inner_lr);
  if (p[lr].rows() == 1 && p[lr].cols() == 1) return ad::mul(ad::broadcast(p[lr], g.rows(), g.cols()), g);
  return ad::mul(p[lr], g);
}
}  // namespace

Var episode_loss(const msr::MetaModel& model, const InnerLoop& inner, const tasks::Episode& e,
                 const std::vector<Var>& p, bool create_graph) {
  if (model.arch.ridge()) throw std::logic_error("the ridge inner solver has no autodiff graph (fused.hpp)");
  const Var xs = ad::constant(e.xs), ys = ad::constant(e.ys);
  const std::vector<int> adapted = model.adapted();
  std::vector<Var> fast = p;
  for (int step = 0; step < inner.steps; ++step) {
    const Var loss = ad::mse_loss(model.forward(fast, xs), ys);
    std::vector<Var> wrt;
    for (int a : adapted) wrt.push_back(fast[a]);
    // Second order: keep the inner gradients on the graph so the outer
    // gradient flows through them. First order: they become constants.
    const std::vector<Var> g = ad::grad(loss, wrt, create_graph && !inner.first_order);
    for (std::size_t i = 0; i < adapted.size(); ++i)
      fast[adapted[i]] = ad::sub(fast[adapted[i]], scaled_step(model, p, adapted[i], g[i]));
  }
  return ad::mse_loss(model.forward(fast, ad::constant(e.xq)), ad::constant(e.yq));
}

EpisodeResult run_episode(const msr::MetaModel& model, const InnerLoop& inner, const tasks::Episode& e,
                          bool want_grads) {
  if (model.arch.ridge() && !want_grads) return {ridge_query_loss(model, e), {}};
  std::vector<Var> p;
  p.reserve(model.params.size());
  for (const auto& prm : model.params) p.push_back(ad::param(prm.value));
  EpisodeResult r;
  const Var loss = episode_loss(model, inner, e, p, want_grads);
  r.query_loss = loss.item();
  if (want_grads) {
    const std::vector<Var> g = ad::grad(loss, p, false);
    r.grads.reserve(g.size());
    for (const Var& gi : g) r.grads.push_back(gi.value());
  }
  return r;
}

}  // namespace symlearn::msr
