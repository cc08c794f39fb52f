#include "learn/bilevel.hpp"

#include "util/error.hpp"

#include <cmath>

namespace symlearn::learn {

using ad::Mat;
using ad::Var;
using Eigen::VectorXd;

const char* hypergrad_name(HypergradMethod m) {
  switch (m) {
    case HypergradMethod::exact: return "exact";
    case HypergradMethod::cg: return "cg";
    case HypergradMethod::neumann: return "neumann";
    case HypergradMethod::identity: return "identity";
  }
  return "?";
}

HypergradMethod hypergrad_from_name(const std::string& name) {
  if (name == "exact") return HypergradMethod::exact;
  if (name == "cg") return HypergradMethod::cg;
  if (name == "neumann") return HypergradMethod::neumann;
  if (name == "identity") return HypergradMethod::identity;
  throw InputError("--hypergrad must be exact, cg, neumann or identity (got '" + name + "')");
}

std::vector<Var> as_params(const std::vector<Mat>& w) {
  std::vector<Var> out;
  for (const Mat& m : w) out.push_back(ad::param(m));
  return out;
}

namespace {

VectorXd flatten(const std::vector<Mat>& ms) {
  long n = 0;
  for (const Mat& m : ms) n += m.size();
  VectorXd out(n);
  long at = 0;
  for (const Mat& m : ms) {
    out.segment(at, m.size()) = Eigen::Map<const VectorXd>(m.data(), m.size());
    at += m.size();
  }
  return out;
}

std::vector<Mat> unflatten(const VectorXd& v, const std::vector<Mat>& like) {
  std::vector<Mat> out;
  long at = 0;
  for (const Mat& m : like) {
    out.push_back(Eigen::Map<const Mat>(v.data() + at, m.rows(), m.cols()));
    at += m.size();
  }
  return out;
}

// <∇_w L_train, v> as a graph node: its gradient in w is H v, in λ the mixed term.
Var inner_product(const std::vector<Var>& g, const std::vector<Mat>& v) {
  Var s = ad::scalar(0.0);
  for (std::size_t i = 0; i < g.size(); ++i) s = ad::add(s, ad::sum(ad::mul(g[i], ad::constant(v[i]))));
  return s;
}

// The train loss's gradient in w, kept on the graph, at fixed (w, λ) leaves.
struct TrainGradient {
  std::vector<Var> w;
  Var hyper;
  std::vector<Var> g;  // ∇_w L_train, differentiable again
  std::vector<Mat> shapes;

  TrainGradient(const BilevelProblem& problem, const std::vector<Mat>& w0, const Mat& hyper0)
      : w(as_params(w0)), hyper(ad::param(hyper0)), shapes(w0) {
    g = ad::grad(problem.train_loss(w, hyper), w, /*create_graph=*/true);
  }

  VectorXd hvp(const VectorXd& v) const {
    std::vector<Var> hv = ad::grad(inner_product(g, unflatten(v, shapes)), w);
    std::vector<Mat> out;
    for (const Var& h : hv) out.push_back(h.value());
    return flatten(out);
  }
};

}  // namespace

std::vector<Mat> train_hvp(const BilevelProblem& problem, const std::vector<Mat>& w, const Mat& hyper,
                           const std::vector<Mat>& v) {
  const TrainGradient tg(problem, w, hyper);
  return unflatten(tg.hvp(flatten(v)), w);
}

Hypergradient hypergradient(const BilevelProblem& problem, const std::vector<Mat>& w, const Mat& hyper,
                            const HypergradOptions& o) {
  Hypergradient out;
  // ∂L_val/∂w and the direct ∂L_val/∂λ.
  VectorXd g;
  {
    std::vector<Var> wv = as_params(w);
    Var hv = ad::param(hyper);
    const Var loss = problem.val_loss(wv, hv);
    out.val_loss = loss.item();
    std::vector<Var> xs = wv;
    xs.push_back(hv);
    const std::vector<Var> grads = ad::grad(loss, xs);
    std::vector<Mat> gw;
    for (std::size_t i = 0; i < w.size(); ++i) gw.push_back(grads[i].value());
    g = flatten(gw);
    out.grad = grads.back().value();
  }
  const TrainGradient tg(problem, w, hyper);
  const double gnorm = g.norm();
  auto damped = [&](const VectorXd& v) -> VectorXd { return tg.hvp(v) + o.damping * v; };

  VectorXd v;
  switch (o.method) {
    case HypergradMethod::identity:
      v = g;
      break;
    case HypergradMethod::exact: {
      const long n = g.size();
      if (n > o.exact_limit)
        throw InputError("--hypergrad exact needs one Hessian-vector product per inner parameter and is limited to " +
                         std::to_string(o.exact_limit) + " of them; this model has " + std::to_string(n) +
                         " (use cg or neumann)");
      Mat h(n, n);
      VectorXd e = VectorXd::Zero(n);
      for (long j = 0; j < n; ++j) {
        e[j] = 1.0;
        h.col(j) = damped(e);
        e[j] = 0.0;
      }
      out.iterations = static_cast<int>(n);
      // H is symmetric in exact arithmetic; symmetrise away rounding before the solve.
      const Mat hs = 0.5 * (h + h.transpose());
      v = hs.colPivHouseholderQr().solve(g);
      out.relative_residual = gnorm > 0 ? (hs * v - g).norm() / gnorm : 0.0;
      break;
    }
    case HypergradMethod::cg: {
      v = VectorXd::Zero(g.size());
      VectorXd r = g, p = g;
      double rr = r.squaredNorm();
      int it = 0;
      while (it < o.iterations && std::sqrt(rr) > o.tolerance * gnorm) {
        const VectorXd hp = damped(p);
        const double php = p.dot(hp);
        ++it;
        // Negative curvature: H is not positive definite here; stop with what we have.
        if (!(php > 0)) break;
        const double alpha = rr / php;
        v += alpha * p;
        r -= alpha * hp;
        const double rr_new = r.squaredNorm();
        p = r + (rr_new / rr) * p;
        rr = rr_new;
      }
      out.iterations = it;
      out.relative_residual = gnorm > 0 ? std::sqrt(rr) / gnorm : 0.0;
      break;
    }
    case HypergradMethod::neumann: {
      // v = α Σ_{k<K} (I − αH)^k g (or Σ_{k<=K} without α), term by term.
      const int terms = o.neumann_prefactor ? o.iterations : o.iterations + 1;
      VectorXd term = g;
      v = g;
      for (int k = 1; k < terms; ++k) {
        term -= o.neumann_alpha * damped(term);
        v += term;
      }
      if (o.neumann_prefactor) v *= o.neumann_alpha;
      out.iterations = std::max(0, terms - 1);
      out.relative_residual = gnorm > 0 ? (damped(v) - g).norm() / gnorm : 0.0;
      break;
    }
  }
  // The mixed term: ∂/∂λ <∇_w L_train, v>.
  const std::vector<Var> mixed = ad::grad(inner_product(tg.g, unflatten(v, w)), {tg.hyper});
  out.grad -= mixed[0].value();
  return out;
}

}  // namespace symlearn::learn
