#include "methods/lgn/action_fit.hpp"

#include "learn/adam.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace symlearn::lgn {

void ActionFitOptions::validate() const {
  if (epochs < 1 || epochs > 1000000) throw InputError("--epochs must be in [1, 1000000]");
  if (batch < 1 || batch > 1 << 20) throw InputError("--batch must be in [1, 1048576]");
  if (!(lr > 0) || !std::isfinite(lr)) throw InputError("--lr must be a positive number");
  if (!(clip >= 0) || !std::isfinite(clip)) throw InputError("--clip must be >= 0 (0: no clipping)");
  if (projection != "fro" && projection != "none") throw InputError("--a-projection must be fro or none");
  if (optimizer != "adam" && optimizer != "sgd") throw InputError("--optimizer must be adam or sgd");
}

double action_mse(const Eigen::MatrixXd& a, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
  return x.cols() ? (a * x - y).squaredNorm() / double(y.size()) : 0.0;
}

ActionFit fit_action(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const ActionFitOptions& o) {
  o.validate();
  const long d = x.rows(), n = x.cols();
  if (n < 1 || y.rows() != d || y.cols() != n) throw InputError("fit_action: x and y must be d x N of the same shape");
  Rng rng(o.seed, 23);
  ActionFit r;
  r.a.resize(d, d);
  for (Eigen::Index k = 0; k < r.a.size(); ++k) r.a.data()[k] = rng.normal();
  r.a /= r.a.norm();  // the authors' start: Gaussian, unit Frobenius norm
  learn::Adam opt;
  std::vector<long> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0L);
  const double lr0 = o.lr;
  for (int e = 0; e < o.epochs; ++e) {
    double lr = lr0;
    for (int m : {o.epochs / 2, 3 * o.epochs / 4, 7 * o.epochs / 8})
      if (e >= m) lr /= 2;
    opt.lr = lr;
    for (long i = n - 1; i > 0; --i) std::swap(order[std::size_t(i)], order[rng.below(std::uint64_t(i + 1))]);
    double loss = 0;
    long seen = 0;
    for (long first = 0; first < n; first += o.batch) {
      const long b = std::min(o.batch, n - first);
      Eigen::MatrixXd xb(d, b), yb(d, b);
      for (long i = 0; i < b; ++i) {
        xb.col(i) = x.col(order[std::size_t(first + i)]);
        yb.col(i) = y.col(order[std::size_t(first + i)]);
      }
      const Eigen::MatrixXd res = r.a * xb - yb;
      loss += res.squaredNorm() / double(d);
      seen += b;
      Eigen::MatrixXd g = (2.0 / double(d * b)) * res * xb.transpose();
      const double norm = g.norm();
      if (o.clip > 0 && norm > o.clip) g *= o.clip / (norm + 1e-6);
      std::vector<Eigen::MatrixXd*> p{&r.a};
      if (o.optimizer == "adam") {
        opt.update(p, {g});
      } else {
        learn::sgd_update(p, {g}, lr);
      }
      if (o.projection == "fro" && r.a.norm() > 0) r.a /= r.a.norm();
      ++r.steps;
    }
    r.epoch_loss.push_back(loss / double(seen));
  }
  return r;
}

}  // namespace symlearn::lgn
