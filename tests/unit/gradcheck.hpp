// Finite-difference checks of symlearn::ad gradients, first and second order.
//
//   first order:  grad(f, xs)                    vs central differences of f
//   second order: grad(sum_i <grad_i(f), v_i>)   vs central differences of grad(f)
//                 along v (a Hessian-vector product through double backward)
//
// The checks return a Comparison rather than asserting, so that a test can
// also show that a wrong gradient is rejected.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ad/ad.hpp"

namespace gradcheck {

using symlearn::ad::Index;
using symlearn::ad::Mat;
using symlearn::ad::Var;

// A scalar (1x1) function of several matrix arguments, built from ops.
using Fn = std::function<Var(const std::vector<Var>&)>;

struct Tolerance {
  double eps1 = 1e-6;  // step of the first-order differences
  double rtol1 = 1e-5;
  double atol1 = 1e-6;
  double eps2 = 1e-5;  // step of the differences of the gradient
  double rtol2 = 1e-4;
  double atol2 = 1e-5;
};

struct Comparison {
  bool ok = true;
  double max_error = 0;  // the largest |got - want|
  std::string message;   // where the first failure is, for CHECK_MESSAGE
};

// Uniform entries in [lo, hi].
inline Mat random_mat(std::mt19937& rng, Index rows, Index cols, double lo = -1.0,
                      double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Mat m(rows, cols);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < rows; ++i) m(i, j) = dist(rng);
  }
  return m;
}

// Entries with |x| in [lo, hi] and a random sign: keeps kinks (relu) and
// poles (div) out of the finite-difference stencil.
inline Mat random_away_from_zero(std::mt19937& rng, Index rows, Index cols, double lo,
                                 double hi) {
  Mat m = random_mat(rng, rows, cols, lo, hi);
  std::bernoulli_distribution flip(0.5);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < rows; ++i) {
      if (flip(rng)) m(i, j) = -m(i, j);
    }
  }
  return m;
}

inline std::vector<Mat> random_like(std::mt19937& rng, const std::vector<Mat>& xs) {
  std::vector<Mat> out;
  for (const Mat& x : xs) out.push_back(random_mat(rng, x.rows(), x.cols()));
  return out;
}

// Elementwise |got - want| <= atol + rtol * |want|.
inline Comparison compare(const std::vector<Mat>& got, const std::vector<Mat>& want, double rtol,
                          double atol) {
  Comparison c;
  if (got.size() != want.size()) {
    c.ok = false;
    c.message = "different numbers of gradients";
    return c;
  }
  for (std::size_t t = 0; t < got.size(); ++t) {
    if (got[t].rows() != want[t].rows() || got[t].cols() != want[t].cols()) {
      c.ok = false;
      c.message = "input " + std::to_string(t) + ": shapes differ";
      return c;
    }
    for (Index j = 0; j < got[t].cols(); ++j) {
      for (Index i = 0; i < got[t].rows(); ++i) {
        const double err = std::abs(got[t](i, j) - want[t](i, j));
        if (std::isnan(err) || err > c.max_error) c.max_error = err;  // a NaN sticks
        if (!(err <= atol + rtol * std::abs(want[t](i, j))) && c.ok) {
          std::ostringstream os;
          os.precision(12);
          os << "input " << t << " entry (" << i << "," << j << "): got " << got[t](i, j)
             << ", expected " << want[t](i, j) << " (error " << err << ")";
          c.ok = false;
          c.message = os.str();
        }
      }
    }
  }
  return c;
}

inline std::vector<Var> params(const std::vector<Mat>& xs) {
  std::vector<Var> out;
  for (const Mat& x : xs) out.push_back(symlearn::ad::param(x));
  return out;
}

inline std::vector<Mat> values(const std::vector<Var>& vs) {
  std::vector<Mat> out;
  for (const Var& v : vs) out.push_back(v.value());
  return out;
}

// f at xs. The arguments are params, not constants, so that an f which takes
// gradients inside (a MAML inner step) evaluates the same way as under grad.
inline double eval(const Fn& f, const std::vector<Mat>& xs) { return f(params(xs)).item(); }

inline std::vector<Mat> ad_grad(const Fn& f, const std::vector<Mat>& xs) {
  const std::vector<Var> ps = params(xs);
  return values(symlearn::ad::grad(f(ps), ps));
}

inline std::vector<Mat> numeric_grad(const Fn& f, std::vector<Mat> xs, double eps) {
  std::vector<Mat> g;
  for (std::size_t t = 0; t < xs.size(); ++t) {
    g.push_back(Mat::Zero(xs[t].rows(), xs[t].cols()));
    for (Index k = 0; k < xs[t].size(); ++k) {
      const double x0 = xs[t](k);
      xs[t](k) = x0 + eps;
      const double up = eval(f, xs);
      xs[t](k) = x0 - eps;
      const double down = eval(f, xs);
      xs[t](k) = x0;
      g[t](k) = (up - down) / (2 * eps);
    }
  }
  return g;
}

// H v by double backward: the gradient of sum_i <grad_i f, v_i>.
inline std::vector<Mat> ad_hvp(const Fn& f, const std::vector<Mat>& xs,
                               const std::vector<Mat>& vs) {
  using namespace symlearn::ad;
  const std::vector<Var> ps = params(xs);
  const std::vector<Var> g = grad(f(ps), ps, /*create_graph=*/true);
  Var s = scalar(0.0);
  for (std::size_t t = 0; t < ps.size(); ++t) s = add(s, sum(mul(g[t], constant(vs[t]))));
  return values(grad(s, ps));
}

// H v as (grad f(x + eps v) - grad f(x - eps v)) / (2 eps).
inline std::vector<Mat> numeric_hvp(const Fn& f, const std::vector<Mat>& xs,
                                    const std::vector<Mat>& vs, double eps) {
  std::vector<Mat> up = xs;
  std::vector<Mat> down = xs;
  for (std::size_t t = 0; t < xs.size(); ++t) {
    up[t] += eps * vs[t];
    down[t] -= eps * vs[t];
  }
  const std::vector<Mat> g_up = ad_grad(f, up);
  const std::vector<Mat> g_down = ad_grad(f, down);
  std::vector<Mat> hv;
  for (std::size_t t = 0; t < xs.size(); ++t) hv.push_back((g_up[t] - g_down[t]) / (2 * eps));
  return hv;
}

inline Comparison check_first_order(const Fn& f, const std::vector<Mat>& xs,
                                    const Tolerance& tol = {}) {
  return compare(ad_grad(f, xs), numeric_grad(f, xs, tol.eps1), tol.rtol1, tol.atol1);
}

inline Comparison check_second_order(const Fn& f, const std::vector<Mat>& xs,
                                     const std::vector<Mat>& vs, const Tolerance& tol = {}) {
  return compare(ad_hvp(f, xs, vs), numeric_hvp(f, xs, vs, tol.eps2), tol.rtol2, tol.atol2);
}

// A scalar from an op with any output shape: sum(r1 o y) + sum(r2 o y^2).
// The square term gives even linear ops a non-zero Hessian, so the second-
// order check runs through the op's backward rule and that rule's adjoint.
inline Fn reduce_to_scalar(const Fn& op, const Mat& r1, const Mat& r2) {
  using namespace symlearn::ad;
  return [op, r1, r2](const std::vector<Var>& xs) {
    const Var y = op(xs);
    return add(sum(mul(constant(r1), y)), sum(mul(constant(r2), square(y))));
  };
}

}  // namespace gradcheck
