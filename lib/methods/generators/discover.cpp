#include "methods/generators/discover.hpp"

#include "learn/adam.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <unsupported/Eigen/MatrixFunctions>

#include <algorithm>
#include <cmath>

namespace symlearn::generators {

using Eigen::MatrixXd;
using Eigen::VectorXd;

void DiscoverOptions::validate() const {
  if (method != "lstsq" && method != "als" && method != "spectral" && method != "gd")
    throw InputError("--method must be lstsq, als, spectral or gd, not '" + method + "'");
  if (estimate != "difference" && estimate != "central" && estimate != "log")
    throw InputError("--estimate must be difference, central or log, not '" + estimate + "'");
  if (!(amount != 0) || !std::isfinite(amount)) throw InputError("--amount must be finite and non-zero");
  if (!(ridge >= 0) || !std::isfinite(ridge)) throw InputError("--ridge must be >= 0");
  if (iterations < 1 || iterations > 100000) throw InputError("--iterations must be in [1, 100000]");
  if (restarts < 1 || restarts > 1000) throw InputError("--restarts must be in [1, 1000]");
  if (steps < 1 || steps > 10'000'000) throw InputError("--steps must be in [1, 10000000]");
  if (!(lr > 0) || !std::isfinite(lr)) throw InputError("--lr must be > 0");
  if (!(keep_smallest > 0 && keep_smallest <= 1)) throw InputError("--keep-smallest must be in (0, 1]");
}

namespace {

// A symmetric positive (semi)definite S plus ridge * mean eigenvalue, solved.
MatrixXd solve_right(const MatrixXd& b, const MatrixXd& s, double ridge) {
  const double lam = ridge * std::max(s.trace() / double(s.rows()), 1e-300);
  MatrixXd a = s;
  a.diagonal().array() += lam;
  // b a^-1 = (a^-1 b^T)^T, a symmetric.
  return a.ldlt().solve(b.transpose()).transpose();
}

// t_i = <L x_i, d_i> / |L x_i|^2 (0 where L x_i = 0).
VectorXd fit_amounts(const MatrixXd& lx, const MatrixXd& d) {
  VectorXd t(lx.cols());
  for (Eigen::Index i = 0; i < lx.cols(); ++i) {
    const double n2 = lx.col(i).squaredNorm();
    t(i) = n2 > 0 ? lx.col(i).dot(d.col(i)) / n2 : 0.0;
  }
  return t;
}

// |D - (L X) T|^2 / |D|^2 from L X already computed.
double residual_from(const MatrixXd& lx, const MatrixXd& d, const VectorXd& t) {
  const double dn = d.squaredNorm();
  return dn > 0 ? (d - lx * t.asDiagonal()).squaredNorm() / dn : 0.0;
}

double residual_of(const MatrixXd& l, const MatrixXd& x, const MatrixXd& d, const VectorXd& t) {
  return residual_from(l * x, d, t);
}

Discovery lstsq(const MatrixXd& x, const MatrixXd& y, const DiscoverOptions& o) {
  const MatrixXd m = solve_right(y * x.transpose(), x * x.transpose(), o.ridge);
  Discovery r;
  if (o.estimate == "log") {
    const MatrixXd lg = m.log();  // principal logarithm (Schur-Parlett)
    if (!lg.allFinite()) throw RunError("the fitted map has no real principal logarithm; use --estimate difference");
    r.generator = lg / o.amount;
  } else if (o.estimate == "central") {
    // G_t - G_t^-1 = 2 t L + O(t^3): the central difference, its second-order term gone.
    r.generator = (m - m.partialPivLu().inverse()) / (2 * o.amount);
  } else {
    r.generator = (m - MatrixXd::Identity(m.rows(), m.cols())) / o.amount;
  }
  r.final_residual = first_order_residual(r.generator, x, y);
  r.residual = {r.final_residual};
  return r;
}

Discovery als(const MatrixXd& x, const MatrixXd& y, const DiscoverOptions& o) {
  const MatrixXd d = y - x;
  const Eigen::Index dim = x.rows();
  Rng rng(o.seed, 0x7000);
  Discovery best;
  best.final_residual = INFINITY;
  for (int start = 0; start < o.restarts; ++start) {
    MatrixXd l;
    if (start == 0) {
      DiscoverOptions first = o;
      first.estimate = "difference";
      first.amount = 1;
      l = lstsq(x, y, first).generator;
    }
    if (start > 0 || l.norm() == 0) {
      l.resize(dim, dim);
      for (Eigen::Index k = 0; k < l.size(); ++k) l.data()[k] = rng.normal();
    }
    const double scale = l.norm();
    Discovery r;
    for (int it = 0;; ++it) {
      // One L X per alternation: the amounts of this L, its residual, then the next L.
      const MatrixXd lx = l * x;
      const VectorXd t = fit_amounts(lx, d);
      r.amounts = t;
      r.final_residual = residual_from(lx, d, t);
      if (it > 0) r.residual.push_back(r.final_residual);
      if (it == o.iterations || t.squaredNorm() == 0) break;
      const MatrixXd xt = x * t.asDiagonal();
      l = solve_right(d * xt.transpose(), xt * xt.transpose(), o.ridge);
      l *= scale / std::max(l.norm(), 1e-300);  // (t, L) only matter as a product: fix |L|
    }
    r.generator = l;
    r.chosen_start = start;
    if (r.final_residual < best.final_residual) best = std::move(r);
  }
  return best;
}

// Each pair says L x_i is parallel to d_i = y_i - x_i, whatever t_i is: L
// maximises sum_i <p_i, L x_i>^2 / sum_i |L x_i|^2 (p_i = d_i / |d_i|), the
// top eigenvector of L -> (sum_i p_i p_i^T L x_i x_i^T)(X X^T)^-1, found by
// power iteration. A linear eigenproblem: no local minima, unlike als.
Discovery spectral(const MatrixXd& x_all, const MatrixXd& y_all, const DiscoverOptions& o) {
  // --keep-smallest: only the pairs moved least (|y - x| / |x|), i.e. the
  // smallest |t_i|, where G_t is closest to exp(t L).
  MatrixXd x_kept, y_kept;
  if (o.keep_smallest < 1) {
    std::vector<std::pair<double, Eigen::Index>> moved;
    for (Eigen::Index i = 0; i < x_all.cols(); ++i)
      moved.push_back({(y_all.col(i) - x_all.col(i)).norm() / std::max(x_all.col(i).norm(), 1e-300), i});
    std::sort(moved.begin(), moved.end());
    const Eigen::Index keep = std::max<Eigen::Index>(1, Eigen::Index(std::ceil(o.keep_smallest * double(moved.size()))));
    x_kept.resize(x_all.rows(), keep);
    y_kept.resize(y_all.rows(), keep);
    for (Eigen::Index k = 0; k < keep; ++k) {
      x_kept.col(k) = x_all.col(moved[std::size_t(k)].second);
      y_kept.col(k) = y_all.col(moved[std::size_t(k)].second);
    }
  }
  const MatrixXd& x = o.keep_smallest < 1 ? x_kept : x_all;
  const MatrixXd& y = o.keep_smallest < 1 ? y_kept : y_all;
  const Eigen::Index dim = x.rows(), n = x.cols();
  MatrixXd d = y - x, p = d;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double nd = d.col(i).norm();
    p.col(i) = nd > 0 ? VectorXd(d.col(i) / nd) : VectorXd::Zero(dim);
  }
  const MatrixXd s = x * x.transpose();
  MatrixXd a = s;
  a.diagonal().array() += o.ridge * std::max(s.trace() / double(dim), 1e-300);
  const Eigen::LDLT<MatrixXd> inv(a);
  Rng rng(o.seed, 0x7100);
  MatrixXd l(dim, dim);
  for (Eigen::Index k = 0; k < l.size(); ++k) l.data()[k] = rng.normal();
  l /= l.norm();
  Discovery r;
  bool converged = false;
  for (int it = 0;; ++it) {
    // One L X per iteration: the residual of this L (logged from the second), then the next L.
    const MatrixXd lx = l * x;
    r.amounts = fit_amounts(lx, d);
    r.final_residual = residual_from(lx, d, r.amounts);
    if (it > 0) r.residual.push_back(r.final_residual);
    if (it == o.iterations || converged) break;
    const VectorXd c = (p.array() * lx.array()).colwise().sum().transpose();
    MatrixXd next = inv.solve((p * c.asDiagonal() * x.transpose()).transpose()).transpose();
    next /= std::max(next.norm(), 1e-300);
    const double change = std::min((next - l).norm(), (next + l).norm());
    l = std::move(next);
    converged = change < 1e-10;
  }
  r.generator = l;
  return r;
}

Discovery gd(const MatrixXd& x, const MatrixXd& y, const DiscoverOptions& o) {
  const Eigen::Index dim = x.rows(), n = x.cols();
  Rng rng(o.seed, 0x8000);
  // Keras's glorot_normal on a d x d matrix: std sqrt(2 / (2 d)), truncated at 2 std.
  MatrixXd l(dim, dim);
  const double std = std::sqrt(1.0 / double(dim));
  for (Eigen::Index k = 0; k < l.size(); ++k) l.data()[k] = std * rng.truncated_normal();
  MatrixXd t = MatrixXd::Ones(1, n);
  learn::Adam opt;
  opt.lr = o.lr;
  Discovery r;
  const MatrixXd d = y - x;
  for (int step = 0; step < o.steps; ++step) {
    const ad::Var lv = ad::param(l), tv = o.per_pair ? ad::param(t) : ad::constant(t);
    const ad::Var loss = pair_loss(lv, tv, x, y);
    std::vector<Eigen::MatrixXd*> targets = {&l};
    std::vector<MatrixXd> grads;
    if (o.per_pair) {
      const auto g = ad::grad(loss, {lv, tv});
      grads = {g[0].value(), g[1].value()};
      targets.push_back(&t);
    } else {
      grads = {ad::grad(loss, {lv})[0].value()};
    }
    if (!std::isfinite(loss.item())) throw RunError("the loss became non-finite at step " + std::to_string(step + 1));
    opt.update(targets, grads);
    if (step % 10 == 0 || step + 1 == o.steps) r.residual.push_back(residual_of(l, x, d, t.row(0).transpose()));
  }
  r.generator = l;
  r.amounts = t.row(0).transpose();
  r.final_residual = residual_of(l, x, d, r.amounts);
  return r;
}

}  // namespace

Discovery discover_generator(const MatrixXd& x, const MatrixXd& y, const DiscoverOptions& o) {
  o.validate();
  if (x.rows() != y.rows() || x.cols() != y.cols() || x.cols() < 1) throw InputError("x and y must be d x N, N >= 1");
  if (o.method == "lstsq") return lstsq(x, y, o);
  if (o.method == "als") return als(x, y, o);
  if (o.method == "spectral") return spectral(x, y, o);
  return gd(x, y, o);
}

double first_order_residual(const MatrixXd& l, const MatrixXd& x, const MatrixXd& y) {
  const MatrixXd d = y - x;
  return residual_of(l, x, d, fit_amounts(l * x, d));
}

double abs_cosine(const MatrixXd& a, const MatrixXd& b) {
  const double na = a.norm(), nb = b.norm();
  return na > 0 && nb > 0 ? std::abs((a.array() * b.array()).sum()) / (na * nb) : 0.0;
}

double span_cosine(const std::vector<MatrixXd>& gens, const MatrixXd& truth) {
  if (gens.empty() || truth.norm() == 0) return 0.0;
  MatrixXd basis(truth.size(), Eigen::Index(gens.size()));
  for (std::size_t i = 0; i < gens.size(); ++i) basis.col(Eigen::Index(i)) = gens[i].reshaped();
  const VectorXd v = truth.reshaped();
  const VectorXd proj = basis * basis.colPivHouseholderQr().solve(v);
  return proj.norm() / v.norm();
}

ad::Var pair_loss(const ad::Var& l, const ad::Var& t, const ad::Mat& x, const ad::Mat& y) {
  const ad::Index d = x.rows(), n = x.cols();
  const ad::Var lx = ad::matmul(l, ad::constant(x));
  const ad::Var moved = ad::mul(lx, ad::repeat_rows(t, d));  // column i scaled by t_i
  const ad::Var r = ad::sub(moved, ad::constant(y - x));
  return ad::scale(ad::sum(ad::square(r)), 1.0 / double(n));
}

}  // namespace symlearn::generators
