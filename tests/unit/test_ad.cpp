// Tests of the reverse-mode AD core (lib/ad) and of the gemm kernels.
#include <doctest/doctest.h>

#include <array>
#include <climits>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ad/ad.hpp"
#include "ad/internal.hpp"
#include "gradcheck.hpp"
#include "linalg/gemm.hpp"

using namespace symlearn::ad;
using gradcheck::random_away_from_zero;
using gradcheck::random_mat;

namespace {

using Inputs = std::vector<Mat>;
using MakeInputs = std::function<Inputs(std::mt19937&)>;

// First- and second-order checks of one op at a few random points. The op's
// output is reduced with random weights (gradcheck::reduce_to_scalar).
void check_op(const MakeInputs& make_inputs, const gradcheck::Fn& op, unsigned seed = 7,
              int points = 2) {
  std::mt19937 rng(seed);
  for (int p = 0; p < points; ++p) {
    const Inputs xs = make_inputs(rng);
    Mat y;
    {
      NoGradGuard no_grad;
      std::vector<Var> cs;
      for (const Mat& x : xs) cs.push_back(constant(x));
      y = op(cs).value();
    }
    const gradcheck::Fn f = gradcheck::reduce_to_scalar(op, random_mat(rng, y.rows(), y.cols()),
                                                        random_mat(rng, y.rows(), y.cols()));
    const gradcheck::Comparison first = gradcheck::check_first_order(f, xs);
    CHECK_MESSAGE(first.ok, "first order: " << first.message);
    const gradcheck::Comparison second =
        gradcheck::check_second_order(f, xs, gradcheck::random_like(rng, xs));
    CHECK_MESSAGE(second.ok, "second order: " << second.message);
  }
}

// Inputs of the given shapes, uniform in [lo, hi].
MakeInputs uniform(std::vector<std::pair<Index, Index>> shapes, double lo = -1.5,
                   double hi = 1.5) {
  return [shapes, lo, hi](std::mt19937& rng) {
    Inputs xs;
    for (const auto& [r, c] : shapes) xs.push_back(random_mat(rng, r, c, lo, hi));
    return xs;
  };
}

bool all_zero(const Var& v) { return v.value().isZero(0.0); }

}  // namespace

// ---- first and second order, one test per op ---------------------------------------

TEST_CASE("gradcheck: matmul") {
  check_op(uniform({{3, 4}, {4, 2}}), [](const auto& x) { return matmul(x[0], x[1]); });
}

TEST_CASE("gradcheck: matmul with transposed operands (internal)") {
  // The backward rules of matmul use these variants; check each on its own.
  // op(A) op(B) with A, B stored as the shapes given.
  const auto product = [](bool ta, bool tb) {
    return [ta, tb](const std::vector<Var>& x) { return detail::matmul_t(x[0], x[1], ta, tb); };
  };
  check_op(uniform({{4, 3}, {4, 2}}), product(true, false));
  check_op(uniform({{3, 4}, {2, 4}}), product(false, true));
  check_op(uniform({{4, 3}, {2, 4}}), product(true, true));
}

TEST_CASE("gradcheck: add") {
  check_op(uniform({{3, 4}, {3, 4}}), [](const auto& x) { return add(x[0], x[1]); });
}

TEST_CASE("gradcheck: sub") {
  check_op(uniform({{3, 4}, {3, 4}}), [](const auto& x) { return sub(x[0], x[1]); });
}

TEST_CASE("gradcheck: mul") {
  check_op(uniform({{3, 4}, {3, 4}}), [](const auto& x) { return mul(x[0], x[1]); });
}

TEST_CASE("gradcheck: div") {
  check_op(
      [](std::mt19937& rng) {
        return Inputs{random_mat(rng, 3, 4), random_away_from_zero(rng, 3, 4, 0.5, 2.0)};
      },
      [](const auto& x) { return div(x[0], x[1]); });
}

TEST_CASE("gradcheck: neg") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return neg(x[0]); });
}

TEST_CASE("gradcheck: scale") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return scale(x[0], -1.7); });
}

TEST_CASE("gradcheck: add_scalar") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return add_scalar(x[0], 0.3); });
}

TEST_CASE("gradcheck: transpose") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return transpose(x[0]); });
}

TEST_CASE("gradcheck: reshape") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return reshape(x[0], 2, 6); });
}

TEST_CASE("gradcheck: vec") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return vec(x[0]); });
}

TEST_CASE("gradcheck: unvec") {
  check_op(uniform({{12, 1}}), [](const auto& x) { return unvec(x[0], 4, 3); });
}

TEST_CASE("gradcheck: kron") {
  check_op(uniform({{2, 3}, {4, 2}}), [](const auto& x) { return kron(x[0], x[1]); });
}

TEST_CASE("gradcheck: kron adjoints (internal)") {
  // kron(A 2x3, B 4x2) is 8x6; its adjoints map an 8x6 G back to A's and B's shapes.
  check_op(uniform({{8, 6}, {4, 2}}),
           [](const auto& x) { return detail::kron_grad_left(x[0], x[1], 2, 3); });
  check_op(uniform({{8, 6}, {2, 3}}),
           [](const auto& x) { return detail::kron_grad_right(x[0], x[1], 4, 2); });
}

TEST_CASE("gradcheck: block") {
  check_op(uniform({{5, 4}}), [](const auto& x) { return block(x[0], 1, 1, 3, 2); });
}

TEST_CASE("gradcheck: rows") {
  check_op(uniform({{5, 4}}), [](const auto& x) { return rows(x[0], 1, 3); });
}

TEST_CASE("gradcheck: cols") {
  check_op(uniform({{3, 5}}), [](const auto& x) { return cols(x[0], 2, 2); });
}

TEST_CASE("gradcheck: pad") {
  check_op(uniform({{2, 3}}), [](const auto& x) { return pad(x[0], 1, 1, 5, 4); });
}

TEST_CASE("gradcheck: concat_rows") {
  check_op(uniform({{2, 3}, {1, 3}, {3, 3}}),
           [](const auto& x) { return concat_rows({x[0], x[1], x[2]}); });
}

TEST_CASE("gradcheck: concat_cols") {
  check_op(uniform({{3, 2}, {3, 1}, {3, 4}}),
           [](const auto& x) { return concat_cols({x[0], x[1], x[2]}); });
}

TEST_CASE("gradcheck: gather_rows and scatter_rows") {
  // Repeated, skipped and zero-fill (-1) indices.
  const std::vector<Index> idx = {2, -1, 0, 2, 3};
  check_op(uniform({{4, 3}}), [idx](const auto& x) { return gather_rows(x[0], idx); });
  check_op(uniform({{5, 2}}), [idx](const auto& x) { return scatter_rows(x[0], idx, 4); });
  // Values, and adjointness: <gather(a), b> = <a, scatter(b)>.
  std::mt19937 rng(3);
  const Mat a = random_mat(rng, 4, 3), b = random_mat(rng, 5, 3);
  const Mat ga = gather_rows(constant(a), idx).value();
  CHECK(ga.row(0) == a.row(2));
  CHECK(ga.row(1).isZero(0.0));
  const Mat sb = scatter_rows(constant(b), idx, 4).value();
  CHECK(sb.row(2).isApprox(b.row(0) + b.row(3)));
  CHECK(sb.row(1).isZero(0.0));
  CHECK(std::abs((ga.array() * b.array()).sum() - (a.array() * sb.array()).sum()) < 1e-12);
  CHECK_THROWS_AS(gather_rows(constant(a), {4}), std::invalid_argument);
  CHECK_THROWS_AS(scatter_rows(constant(b), {0, 1}, 4), std::invalid_argument);
}

TEST_CASE("gradcheck: sum") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return sum(x[0]); });
}

TEST_CASE("gradcheck: mean") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return mean(x[0]); });
}

TEST_CASE("gradcheck: col_sums") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return col_sums(x[0]); });
}

TEST_CASE("gradcheck: row_sums") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return row_sums(x[0]); });
}

TEST_CASE("gradcheck: broadcast") {
  check_op(uniform({{1, 1}}), [](const auto& x) { return broadcast(x[0], 3, 4); });
}

TEST_CASE("gradcheck: repeat_rows") {
  check_op(uniform({{1, 4}}), [](const auto& x) { return repeat_rows(x[0], 3); });
}

TEST_CASE("gradcheck: repeat_cols") {
  check_op(uniform({{3, 1}}), [](const auto& x) { return repeat_cols(x[0], 4); });
}

TEST_CASE("gradcheck: add_row") {
  check_op(uniform({{3, 4}, {1, 4}}), [](const auto& x) { return add_row(x[0], x[1]); });
}

TEST_CASE("gradcheck: square") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return square(x[0]); });
}

TEST_CASE("gradcheck: exp") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return exp(x[0]); });
}

TEST_CASE("gradcheck: log") {
  check_op(uniform({{3, 4}}, 0.5, 2.0), [](const auto& x) { return log(x[0]); });
}

TEST_CASE("gradcheck: tanh") {
  check_op(uniform({{3, 4}}), [](const auto& x) { return tanh(x[0]); });
}

TEST_CASE("gradcheck: sigmoid") {
  check_op(uniform({{3, 4}}, -3.0, 3.0), [](const auto& x) { return sigmoid(x[0]); });
}

TEST_CASE("gradcheck: relu") {
  check_op([](std::mt19937& rng) { return Inputs{random_away_from_zero(rng, 3, 4, 0.1, 1.5)}; },
           [](const auto& x) { return relu(x[0]); });
}

TEST_CASE("gradcheck: abs and l1_loss") {
  check_op([](std::mt19937& rng) { return Inputs{random_away_from_zero(rng, 3, 4, 0.1, 1.5)}; },
           [](const auto& x) { return abs(x[0]); });
  check_op([](std::mt19937& rng) { return Inputs{random_away_from_zero(rng, 3, 4, 0.1, 1.5), Mat::Zero(3, 4)}; },
           [](const auto& x) { return l1_loss(x[0], x[1]); });
  const Mat v = (Mat(1, 3) << -2.0, 0.0, 3.0).finished();
  CHECK(abs(constant(v)).value() == (Mat(1, 3) << 2.0, 0.0, 3.0).finished());
  CHECK(l1_loss(constant(v), constant(Mat::Zero(1, 3))).item() == doctest::Approx(5.0 / 3.0));
}

TEST_CASE("gradcheck: softmax_rows") {
  check_op(uniform({{3, 5}}, -2.0, 2.0), [](const auto& x) { return softmax_rows(x[0]); });
}

TEST_CASE("gradcheck: log_softmax_rows") {
  check_op(uniform({{3, 5}}, -2.0, 2.0), [](const auto& x) { return log_softmax_rows(x[0]); });
}

TEST_CASE("gradcheck: mse_loss") {
  check_op(uniform({{3, 4}, {3, 4}}), [](const auto& x) { return mse_loss(x[0], x[1]); });
}

TEST_CASE("gradcheck: softmax_cross_entropy") {
  check_op(uniform({{4, 3}}, -2.0, 2.0),
           [](const auto& x) { return softmax_cross_entropy(x[0], {0, 2, 1, 2}); });
}

TEST_CASE("gradcheck: a small network, shared inputs, several paths") {
  // W is used twice and x reaches the loss along two paths: gradients accumulate.
  check_op(uniform({{4, 3}, {3, 3}, {1, 3}}), [](const auto& x) {
    const Var h = tanh(add_row(matmul(x[0], x[1]), x[2]));
    const Var z = sigmoid(matmul(h, transpose(x[1])));
    return add(mul(z, h), x[0] /* 4x3 too */);
  });
}

// ---- the checker itself --------------------------------------------------------------

TEST_CASE("gradcheck rejects a gradient that is off by 1e-3") {
  std::mt19937 rng(3);
  const Inputs xs{random_mat(rng, 3, 4)};
  const Mat r = random_mat(rng, 3, 4);
  const gradcheck::Fn f = [r](const auto& x) { return sum(mul(constant(r), tanh(x[0]))); };
  const gradcheck::Tolerance tol;

  const std::vector<Mat> numeric = gradcheck::numeric_grad(f, xs, tol.eps1);
  std::vector<Mat> analytic = gradcheck::ad_grad(f, xs);
  CHECK(gradcheck::compare(analytic, numeric, tol.rtol1, tol.atol1).ok);
  analytic[0](1, 2) += 1e-3;
  const gradcheck::Comparison wrong = gradcheck::compare(analytic, numeric, tol.rtol1, tol.atol1);
  CHECK_FALSE(wrong.ok);
  CHECK(wrong.message.find("(1,2)") != std::string::npos);

  // The same for a Hessian-vector product with the second-order tolerances.
  const std::vector<Mat> vs = gradcheck::random_like(rng, xs);
  const std::vector<Mat> hv_numeric = gradcheck::numeric_hvp(f, xs, vs, tol.eps2);
  std::vector<Mat> hv = gradcheck::ad_hvp(f, xs, vs);
  CHECK(gradcheck::compare(hv, hv_numeric, tol.rtol2, tol.atol2).ok);
  hv[0](0, 3) += 1e-3;
  CHECK_FALSE(gradcheck::compare(hv, hv_numeric, tol.rtol2, tol.atol2).ok);

  // A NaN is never accepted.
  analytic = gradcheck::ad_grad(f, xs);
  analytic[0](0, 0) = std::nan("");
  CHECK_FALSE(gradcheck::compare(analytic, numeric, tol.rtol1, tol.atol1).ok);
}

// ---- forward values -------------------------------------------------------------------

TEST_CASE("forward: vec, unvec and reshape are column-major") {
  Mat a(2, 3);
  a << 1, 2, 3, 4, 5, 6;
  Mat expected(6, 1);
  expected << 1, 4, 2, 5, 3, 6;
  const Var v = vec(constant(a));
  CHECK(v.value() == expected);
  CHECK(unvec(v, 2, 3).value() == a);
  Mat r(3, 2);
  r << 1, 5, 4, 3, 2, 6;
  CHECK(reshape(constant(a), 3, 2).value() == r);
}

TEST_CASE("forward: kron layout") {
  Mat a(2, 3);
  a << 1, 2, 3, 4, 5, 6;
  Mat b(2, 2);
  b << 0, 1, 10, 100;
  const Mat c = kron(constant(a), constant(b)).value();
  REQUIRE(c.rows() == 4);
  REQUIRE(c.cols() == 6);
  for (Index i = 0; i < 2; ++i) {
    for (Index j = 0; j < 3; ++j) {
      for (Index k = 0; k < 2; ++k) {
        for (Index l = 0; l < 2; ++l) CHECK(c(i * 2 + k, j * 2 + l) == a(i, j) * b(k, l));
      }
    }
  }
  // vec(A X B) = (B^T kron A) vec(X), the identity the MSR layers rely on.
  std::mt19937 rng(5);
  const Mat A = random_mat(rng, 3, 4), X = random_mat(rng, 4, 2), B = random_mat(rng, 2, 5);
  const Mat lhs = vec(constant(A * X * B)).value();
  const Mat rhs = kron(constant(B.transpose()), constant(A)).value() * vec(constant(X)).value();
  CHECK((lhs - rhs).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("forward: matmul, reductions and broadcasts against Eigen") {
  std::mt19937 rng(11);
  const Mat a = random_mat(rng, 3, 4), b = random_mat(rng, 4, 2), r = random_mat(rng, 1, 4);
  CHECK((matmul(constant(a), constant(b)).value() - a * b).cwiseAbs().maxCoeff() < 1e-14);
  CHECK(std::abs(sum(constant(a)).item() - a.sum()) < 1e-14);
  CHECK(std::abs(mean(constant(a)).item() - a.mean()) < 1e-14);
  CHECK(col_sums(constant(a)).value().isApprox(a.colwise().sum()));
  CHECK(row_sums(constant(a)).value().isApprox(a.rowwise().sum()));
  CHECK(add_row(constant(a), constant(r)).value().isApprox(a + r.replicate(3, 1)));
  CHECK(transpose(constant(a)).value() == a.transpose());
  CHECK(block(constant(a), 1, 2, 2, 2).value() == a.block(1, 2, 2, 2));
  const Mat p = pad(constant(b), 1, 2, 6, 5).value();
  CHECK(p.block(1, 2, 4, 2) == b);
  CHECK(p.sum() == doctest::Approx(b.sum()));
  const Mat below = random_mat(rng, 2, 4);
  Mat stacked(5, 4);
  stacked << a, below;
  CHECK(concat_rows({constant(a), constant(below)}).value() == stacked);
  Mat side(4, 5);
  side << b, b.leftCols(1), b;
  CHECK(concat_cols({constant(b), constant(b.leftCols(1)), constant(b)}).value() == side);
  CHECK(broadcast(scalar(2.5), 2, 3).value() == Mat::Constant(2, 3, 2.5));
}

TEST_CASE("forward: softmax rows sum to 1 and match log_softmax; losses") {
  std::mt19937 rng(13);
  Mat x = random_mat(rng, 4, 5, -3.0, 3.0);
  x(2, 1) = 800.0;  // would overflow a naive exp
  const Mat s = softmax_rows(constant(x)).value();
  const Mat ls = log_softmax_rows(constant(x)).value();
  CHECK(s.allFinite());
  CHECK(ls.allFinite());
  for (Index i = 0; i < 4; ++i) CHECK(s.row(i).sum() == doctest::Approx(1.0).epsilon(1e-14));
  CHECK((s - ls.array().exp().matrix()).cwiseAbs().maxCoeff() < 1e-14);
  CHECK(s(0, 0) == doctest::Approx(std::exp(x(0, 0)) / x.row(0).array().exp().sum()));

  const std::vector<int> labels{1, 0, 4, 2};
  double expected = 0;
  for (Index i = 0; i < 4; ++i) expected -= ls(i, labels[static_cast<std::size_t>(i)]);
  CHECK(softmax_cross_entropy(constant(x), labels).item() == doctest::Approx(expected / 4));

  const Mat t = random_mat(rng, 4, 5);
  CHECK(mse_loss(constant(x), constant(t)).item() ==
        doctest::Approx((x - t).array().square().mean()));

  const Mat sg = sigmoid(constant(Mat::Constant(1, 2, -1000.0))).value();
  CHECK(sg.allFinite());
  CHECK(sigmoid(scalar(0.0)).item() == 0.5);
}

// ---- errors ---------------------------------------------------------------------------------

TEST_CASE("shape mismatches throw std::invalid_argument naming the op and shapes") {
  const Var a = constant(Mat::Zero(3, 4));
  const Var b = constant(Mat::Zero(5, 2));
  try {
    matmul(a, b);
    FAIL("matmul did not throw");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "matmul: shapes [3,4] and [5,2] do not fit");
  }
  CHECK_THROWS_AS(add(a, b), std::invalid_argument);
  CHECK_THROWS_AS(sub(a, b), std::invalid_argument);
  CHECK_THROWS_AS(mul(a, b), std::invalid_argument);
  CHECK_THROWS_AS(div(a, b), std::invalid_argument);
  CHECK_THROWS_AS(mse_loss(a, b), std::invalid_argument);
  CHECK_THROWS_AS(reshape(a, 5, 2), std::invalid_argument);
  CHECK_THROWS_AS(unvec(a, 4, 3), std::invalid_argument);  // not a column
  CHECK_THROWS_AS(block(a, 2, 0, 2, 1), std::invalid_argument);
  CHECK_THROWS_AS(rows(a, -1, 1), std::invalid_argument);
  CHECK_THROWS_AS(cols(a, 3, 2), std::invalid_argument);
  CHECK_THROWS_AS(pad(a, 1, 0, 3, 4), std::invalid_argument);
  CHECK_THROWS_AS(concat_rows({a, b}), std::invalid_argument);
  CHECK_THROWS_AS(concat_cols({a, b}), std::invalid_argument);
  CHECK_THROWS_AS(concat_rows({}), std::invalid_argument);
  CHECK_THROWS_AS(broadcast(a, 2, 2), std::invalid_argument);
  CHECK_THROWS_AS(repeat_rows(a, 2), std::invalid_argument);
  CHECK_THROWS_AS(repeat_cols(a, 2), std::invalid_argument);
  CHECK_THROWS_AS(add_row(a, constant(Mat::Zero(1, 3))), std::invalid_argument);
  CHECK_THROWS_AS(a.item(), std::invalid_argument);
  CHECK_THROWS_WITH_AS(add(a, b), "add: shapes [3,4] and [5,2] do not fit", std::invalid_argument);
}

TEST_CASE("softmax_cross_entropy checks its labels") {
  const Var logits = constant(Mat::Zero(3, 4));
  CHECK_THROWS_AS(softmax_cross_entropy(logits, {0, 1}), std::invalid_argument);
  CHECK_THROWS_AS(softmax_cross_entropy(logits, {0, 1, 4}), std::invalid_argument);
  CHECK_THROWS_AS(softmax_cross_entropy(logits, {0, -1, 2}), std::invalid_argument);
  CHECK(softmax_cross_entropy(logits, {0, 1, 3}).item() == doctest::Approx(std::log(4.0)));
}

TEST_CASE("grad requires a 1x1 output") {
  const Var x = param(Mat::Ones(2, 2));
  CHECK_THROWS_AS(grad(square(x), {x}), std::invalid_argument);
  CHECK_THROWS_AS(grad(Var(), {x}), std::invalid_argument);
}

// ---- graph behaviour -----------------------------------------------------------------------

TEST_CASE("grad of an x that y does not depend on is zeros of x's shape") {
  const Var x = param(Mat::Ones(2, 3));
  const Var unrelated = param(Mat::Ones(4, 5));
  const Var c = constant(Mat::Ones(3, 3));
  const std::vector<Var> g = grad(sum(square(x)), {x, unrelated, c});
  CHECK(g[0].value() == Mat::Constant(2, 3, 2.0));
  CHECK(g[1].rows() == 4);
  CHECK(g[1].cols() == 5);
  CHECK(all_zero(g[1]));
  CHECK(all_zero(g[2]));
  // y constant: everything is zero; y itself: one.
  const Var k = scalar(3.0);
  CHECK(all_zero(grad(k, {x})[0]));
  const Var y = sum(x);
  CHECK(grad(y, {y})[0].item() == 1.0);
}

TEST_CASE("create_graph decides whether gradients are on the graph") {
  const Var x = param(Mat::Constant(2, 2, 0.5));
  const Var y = sum(exp(x));
  const std::vector<Var> plain = grad(y, {x});
  CHECK_FALSE(plain[0].requires_grad());
  CHECK(plain[0].node()->inputs.empty());
  const std::vector<Var> on_graph = grad(y, {x}, true);
  CHECK(on_graph[0].requires_grad());
  CHECK(plain[0].value().isApprox(on_graph[0].value()));
  // d/dx sum(exp(x)) = exp(x); once more: exp(x) again.
  const Var again = grad(sum(on_graph[0]), {x})[0];
  CHECK(again.value().isApprox(Mat::Constant(2, 2, std::exp(0.5))));
}

TEST_CASE("NoGradGuard records no graph, nests, and is per thread") {
  const Var x = param(Mat::Ones(2, 2));
  CHECK(grad_enabled());
  {
    NoGradGuard outer;
    CHECK_FALSE(grad_enabled());
    const Var y = tanh(matmul(x, x));
    CHECK_FALSE(y.requires_grad());
    CHECK(y.node()->inputs.empty());
    CHECK_FALSE(static_cast<bool>(y.node()->backward));
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());
    // Another thread has its own mode and builds its own graph meanwhile.
    bool other_enabled = false;
    bool other_recorded = false;
    std::thread t([&] {
      other_enabled = grad_enabled();
      const Var z = square(x);
      other_recorded = z.requires_grad() && z.node()->inputs.size() == 1;
    });
    t.join();
    CHECK(other_enabled);
    CHECK(other_recorded);
  }
  CHECK(grad_enabled());
  const Var y = tanh(x);
  CHECK(y.requires_grad());
  CHECK(y.node()->inputs.size() == 1);
  // Ops on constants only record nothing either.
  CHECK(x.node()->order < y.node()->order);  // creation order is topological
  CHECK_FALSE(exp(constant(Mat::Ones(2, 2))).requires_grad());
  // detach cuts the graph.
  CHECK_FALSE(y.detach().requires_grad());
  CHECK(y.detach().value() == y.value());
}

TEST_CASE("graphs are freed: backward rules hold no reference to their own output") {
  std::weak_ptr<Node> y_node, g_node, hv_node;
  {
    const Var x = param(Mat::Constant(2, 3, 0.3));
    const Var y = sum(mul(softmax_rows(x), exp(div(tanh(x), add_scalar(sigmoid(x), 1.0)))));
    const Var g = grad(y, {x}, /*create_graph=*/true)[0];
    const Var hv = grad(sum(square(g)), {x}, true)[0];
    y_node = y.node();
    g_node = g.node();
    hv_node = hv.node();
    CHECK_FALSE(y_node.expired());
  }
  CHECK(y_node.expired());
  CHECK(g_node.expired());
  CHECK(hv_node.expired());
}

TEST_CASE("graphs built on parallel threads") {
  auto work = [](double start, double* out) {
    const Var w = param(Mat::Constant(3, 3, start));
    Var h = w;
    for (int i = 0; i < 200; ++i) h = tanh(matmul(h, w));
    *out = grad(sum(h), {w})[0].value().sum();
  };
  double serial = 0;
  work(0.1, &serial);
  double a = 0;
  double b = 0;
  std::thread t1(work, 0.1, &a);
  std::thread t2(work, 0.1, &b);
  t1.join();
  t2.join();
  CHECK(a == serial);
  CHECK(b == serial);
}

TEST_CASE("a 100000-op chain neither overflows the stack in grad nor on release") {
  const int n = 100000;
  const Var x = param(Mat::Ones(2, 2));
  {
    Var y = x;
    for (int i = 0; i < n; ++i) y = add(y, x);  // x reaches y along n + 1 paths
    const std::vector<Var> g = grad(sum(y), {x});
    CHECK(g[0].value() == Mat::Constant(2, 2, n + 1.0));
  }
  {
    Var y = x;
    for (int i = 0; i < n; ++i) y = add_scalar(y, 1e-5);
    const std::vector<Var> g = grad(sum(y), {x}, /*create_graph=*/true);
    CHECK(g[0].value() == Mat::Ones(2, 2));
  }  // both chains (and the gradient graph) are released here
}

// ---- MAML: the derivative through an inner gradient step --------------------------------------

namespace {

// Outer loss after one inner SGD step on (W, b) of a one-layer tanh regressor.
// With second_order the inner gradient stays on the graph (full MAML);
// without it the inner gradient is a constant (first-order MAML).
gradcheck::Fn maml_outer_loss(bool second_order) {
  std::mt19937 rng(21);
  const Var xs = constant(random_mat(rng, 5, 3)), ys = constant(random_mat(rng, 5, 2));
  const Var xq = constant(random_mat(rng, 6, 3)), yq = constant(random_mat(rng, 6, 2));
  return [=](const std::vector<Var>& p) {
    const double alpha = 0.7;
    const Var inner = mse_loss(tanh(add_row(matmul(xs, p[0]), p[1])), ys);
    const std::vector<Var> g = grad(inner, {p[0], p[1]}, second_order);
    const Var w1 = sub(p[0], scale(g[0], alpha));
    const Var b1 = sub(p[1], scale(g[1], alpha));
    return mse_loss(tanh(add_row(matmul(xq, w1), b1)), yq);
  };
}

}  // namespace

TEST_CASE("MAML: second-order meta-gradient matches finite differences") {
  std::mt19937 rng(17);
  const Inputs theta{random_mat(rng, 3, 2), random_mat(rng, 1, 2)};
  const gradcheck::Comparison full = gradcheck::check_first_order(maml_outer_loss(true), theta);
  CHECK_MESSAGE(full.ok, full.message);
  // And its Hessian-vector product (third-order derivatives of the inner loss).
  const gradcheck::Comparison hvp = gradcheck::check_second_order(
      maml_outer_loss(true), theta, gradcheck::random_like(rng, theta));
  CHECK_MESSAGE(hvp.ok, hvp.message);
  // The first-order approximation drops a term that matters here: it must
  // not pass, or the test above would not be testing the second-order path.
  const std::vector<Mat> fd = gradcheck::numeric_grad(maml_outer_loss(true), theta, 1e-6);
  const std::vector<Mat> fo = gradcheck::ad_grad(maml_outer_loss(false), theta);
  CHECK_FALSE(gradcheck::compare(fo, fd, 1e-5, 1e-6).ok);
}

// ---- gemm kernels ------------------------------------------------------------------------------

TEST_CASE("gemm: Eigen and OpenBLAS kernels agree, transposed variants included") {
  namespace la = symlearn::linalg;
  const long saved = la::blas_threshold();
  std::mt19937 rng(29);
  const std::vector<std::array<Index, 3>> shapes{{1, 1, 1},    {3, 4, 2},     {7, 5, 9},   {1, 50, 3},
                                                 {40, 3, 1},   {33, 65, 17},  {64, 64, 64}, {700, 9, 33},
                                                 {1100, 16, 5}, {64, 1, 3}, {600, 10, 1},
                                                 // the register-tile kernel: row and column tails, k up to 128,
                                                 // few rows with many columns
                                                 {101, 32, 7}, {67, 70, 19}, {300, 120, 13}, {20, 9, 1100},
                                                 // long inner dimensions into small results (dot products)
                                                 {10, 1500, 7}, {33, 700, 5}, {4, 2000, 17}};
  for (const auto& [m, k, n] : shapes) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool ta = (variant & 1) != 0;
      const bool tb = (variant & 2) != 0;
      const Mat a = ta ? random_mat(rng, k, m) : random_mat(rng, m, k);
      const Mat b = tb ? random_mat(rng, n, k) : random_mat(rng, k, n);
      const Mat expected = (ta ? Mat(a.transpose()) : a) * (tb ? Mat(b.transpose()) : b);
      la::set_blas_threshold(0);
      const Mat with_blas = la::gemm(a, b, ta, tb);
      la::set_blas_threshold(LONG_MAX);
      const Mat with_eigen = la::gemm(a, b, ta, tb);
      INFO("m=" << m << " k=" << k << " n=" << n << " ta=" << ta << " tb=" << tb);
      REQUIRE(with_blas.rows() == m);
      REQUIRE(with_blas.cols() == n);
      CHECK((with_blas - expected).cwiseAbs().maxCoeff() < 1e-12);
      CHECK((with_eigen - expected).cwiseAbs().maxCoeff() < 1e-12);
      // Accumulating: C = alpha op(A) op(B) + beta C, in every kernel.
      const Mat c0 = random_mat(rng, m, n);
      for (long threshold : {0L, 1000L, LONG_MAX}) {
        la::set_blas_threshold(threshold);
        Mat c = c0;
        la::gemm_into(c, a, b, ta, tb, 0.5, 2.0);
        CHECK((c - (0.5 * expected + 2.0 * c0)).cwiseAbs().maxCoeff() < 1e-12);
        Eigen::MatrixXf cf = c0.cast<float>();
        la::gemm_into(cf, a.cast<float>(), b.cast<float>(), ta, tb, 0.5f, 1.0f);
        CHECK((cf.cast<double>() - (0.5 * expected + c0)).cwiseAbs().maxCoeff() < 1e-4 * (1 + expected.cwiseAbs().maxCoeff()));
      }
    }
  }
  la::set_blas_threshold(saved);
  CHECK_THROWS_AS(la::gemm(Mat::Zero(3, 4), Mat::Zero(3, 4)), std::invalid_argument);
  // The blocked transpose, with edges past the 8 x 8 blocks, float and double.
  for (const auto& [r, c] : std::vector<std::pair<Index, Index>>{{1, 1}, {8, 8}, {19, 8}, {8, 27}, {37, 70}}) {
    const Mat a = random_mat(rng, r, c);
    Mat t(c, r);
    la::transpose_into(t, a);
    CHECK(t == a.transpose());
    Eigen::MatrixXf tf(c, r);
    la::transpose_into(tf, a.cast<float>());
    CHECK(tf == a.transpose().cast<float>());
  }
  Mat wrong(2, 2);
  CHECK_THROWS_AS(la::transpose_into(wrong, Mat::Zero(2, 3)), std::invalid_argument);
  CHECK(la::gemm(Mat::Zero(3, 4), Mat::Zero(3, 4), true, false).rows() == 4);
  CHECK(la::gemm(Mat(3, 0), Mat(0, 2)) == Mat::Zero(3, 2));  // empty inner dimension
}
