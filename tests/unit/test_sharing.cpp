// Learned parameter sharing: the implicit hypergradients (exact, CG, Neumann)
// against finite differences of the validation loss at the inner optimum,
// the sum-of-numbers model and the outer penalties against finite
// differences, and the partition distance between sharings.
#include "analysis/symmetry_scores.hpp"
#include "gradcheck.hpp"
#include "learn/bilevel.hpp"
#include "methods/sharing/train.hpp"
#include "methods/sharing/model.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace symlearn;
using ad::Mat;
using ad::Var;

namespace {

Mat randn(Rng& rng, long rows, long cols, double scale = 1.0) {
  Mat m(rows, cols);
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i) m(i, j) = scale * rng.normal();
  return m;
}

// F(λ) = L_val(w*(λ), λ) by central differences, with `solve` giving w*(λ).
Mat fd_hypergradient(const learn::BilevelProblem& p, const Mat& logits,
                     const std::function<std::vector<Mat>(const Mat&)>& solve, double eps) {
  Mat g(logits.rows(), logits.cols());
  auto value = [&](const Mat& l) {
    const std::vector<Mat> w = solve(l);
    std::vector<Var> wv;
    for (const Mat& m : w) wv.push_back(ad::constant(m));
    return p.val_loss(wv, ad::constant(l)).item();
  };
  for (long k = 0; k < logits.size(); ++k) {
    Mat up = logits, down = logits;
    up(k) += eps;
    down(k) -= eps;
    g(k) = (value(up) - value(down)) / (2 * eps);
  }
  return g;
}

double rel_error(const Mat& got, const Mat& want) { return (got - want).norm() / want.norm(); }

// A tiny sum-of-numbers problem (rank 2 labels: −x0 + x1 − x2).
struct TinySum {
  sharing::SharingArch arch;
  sharing::SumSplit train, val;

  explicit TinySum(Rng& rng) {
    arch.length = 3;
    arch.vocab = 9;
    arch.embed = 3;
    arch.hidden = 3;
    train = make(rng, 40);
    val = make(rng, 25);
  }
  sharing::SumSplit make(Rng& rng, long n) {
    sharing::SumSplit s;
    s.n = n;
    s.length = arch.length;
    s.y.resize(n);
    for (long i = 0; i < n; ++i) {
      double y = 0;
      for (int p = 0; p < arch.length; ++p) {
        const long t = 1 + static_cast<long>(rng.below(9));
        s.tokens.push_back(t);
        y += (p % 2 ? 1.0 : -1.0) * static_cast<double>(t);
      }
      s.y[i] = y + rng.uniform(-0.5, 0.5);
    }
    s.batch = sharing::make_token_batch(s.tokens, n, arch.length, arch.vocab);
    return s;
  }
};

}  // namespace

TEST_CASE("sharing: gaussian hypergradients (exact, cg, neumann) match finite differences at the inner optimum") {
  Rng rng(3);
  const int k = 5;
  const Mat train = randn(rng, 12, k).array() + 2.0, val = randn(rng, 9, k).array() + 2.0;
  const double ridge = 0.1;
  const sharing::GaussianSharingProblem p(train, val, ridge);
  const Mat logits = randn(rng, k, k);
  auto solve = [&](const Mat& l) {
    ad::NoGradGuard guard;
    const Mat a = ad::softmax_rows(ad::constant(l)).value();
    return std::vector<Mat>{sharing::gaussian_fit(a, train, ridge)};
  };
  const Mat want = fd_hypergradient(p, logits, solve, 1e-5);
  const std::vector<Mat> w = solve(logits);

  learn::HypergradOptions o;
  o.method = learn::HypergradMethod::exact;
  const learn::Hypergradient exact = learn::hypergradient(p, w, logits, o);
  CHECK(exact.relative_residual < 1e-12);
  CHECK(rel_error(exact.grad, want) < 1e-7);

  o.method = learn::HypergradMethod::cg;
  o.iterations = 50;
  o.tolerance = 1e-12;
  const learn::Hypergradient cg = learn::hypergradient(p, w, logits, o);
  CHECK(cg.relative_residual < 1e-10);
  CHECK(rel_error(cg.grad, want) < 1e-7);

  // Neumann: converges when α‖H‖ < 1; H = (2/K) AᵀA + ρI, ‖A‖ ≤ √K for row-stochastic A.
  o.method = learn::HypergradMethod::neumann;
  o.neumann_alpha = 1.0 / (2.0 + ridge);
  o.iterations = 400;
  const learn::Hypergradient neu = learn::hypergradient(p, w, logits, o);
  CHECK(neu.relative_residual < 1e-6);
  CHECK(rel_error(neu.grad, want) < 1e-5);
  // Fewer terms: a worse solve, and the error follows the residual.
  o.iterations = 3;
  const learn::Hypergradient short_neu = learn::hypergradient(p, w, logits, o);
  CHECK(short_neu.relative_residual > 1e-3);
  CHECK(rel_error(short_neu.grad, want) > 1e-4);

  // identity (H ≈ I) is an approximation: it must not match here.
  o.method = learn::HypergradMethod::identity;
  CHECK(rel_error(learn::hypergradient(p, w, logits, o).grad, want) > 1e-2);
  // Away from the inner optimum the implicit formula does not hold either.
  std::vector<Mat> off = w;
  off[0].array() += 0.5;
  o.method = learn::HypergradMethod::exact;
  CHECK(rel_error(learn::hypergradient(p, off, logits, o).grad, want) > 1e-3);
}

TEST_CASE("sharing: the sum-of-numbers model passes first- and second-order finite-difference checks") {
  Rng rng(5);
  TinySum t(rng);
  const sharing::SumSharingProblem p(t.arch, t.train, t.val, 0.0, 5.0, 0.01);
  std::vector<Mat> xs = sharing::init_sum_weights(t.arch, rng);
  xs.push_back(randn(rng, 3, 3));
  const gradcheck::Fn f = [&](const std::vector<Var>& v) {
    const std::vector<Var> w(v.begin(), v.end() - 1);
    return ad::add(p.train_loss(w, v.back()), p.val_loss(w, v.back()));
  };
  const gradcheck::Comparison first = gradcheck::check_first_order(f, xs);
  CHECK_MESSAGE(first.ok, first.message);
  std::mt19937 g(7);
  const gradcheck::Comparison second = gradcheck::check_second_order(f, xs, gradcheck::random_like(g, xs));
  CHECK_MESSAGE(second.ok, second.message);
}

TEST_CASE("sharing: the hand-written loss and gradient equal the autodiff's (MSE and L1, with and without decay)") {
  Rng rng(6);
  TinySum t(rng);
  t.arch.embed = 5;
  t.arch.hidden = 4;
  for (bool l1 : {false, true}) {
    CAPTURE(l1);
    const sharing::SumSharingProblem p(t.arch, t.train, t.val, 0.7, 4.0, 0.01, l1);
    const std::vector<Mat> w = sharing::init_sum_weights(t.arch, rng);
    const Mat a = ad::softmax_rows(ad::constant(randn(rng, 3, 3))).value();
    for (bool decay : {false, true}) {
      CAPTURE(decay);
      std::vector<Mat> g;
      const double loss = p.loss_and_grad(w, a, t.train, decay, g);
      const std::vector<Var> wv = learn::as_params(w);
      // train_loss adds the decay term; loss() is the bare one.
      const Mat logits = a.array().log().matrix();  // softmax(log a) = a: rows sum to 1
      const Var ref = decay ? p.train_loss(wv, ad::constant(logits)) : p.loss(wv, ad::constant(a), t.train);
      CHECK(loss == doctest::Approx(ref.item()).epsilon(1e-12));
      const std::vector<Var> rg = ad::grad(ref, wv);
      REQUIRE(g.size() == rg.size());
      for (std::size_t i = 0; i < g.size(); ++i) {
        CAPTURE(i);
        CHECK((g[i] - rg[i].value()).norm() <= 1e-12 * (1 + rg[i].value().norm()));
      }
    }
  }
}

TEST_CASE("sharing: the entropy and nuclear-norm penalties against finite differences") {
  Rng rng(8);
  const Mat logits = randn(rng, 4, 4);
  const gradcheck::Fn entropy = [](const std::vector<Var>& v) { return sharing::row_entropy(ad::softmax_rows(v[0])); };
  std::mt19937 g(1);
  CHECK(gradcheck::check_first_order(entropy, {logits}).ok);
  CHECK(gradcheck::check_second_order(entropy, {logits}, gradcheck::random_like(g, {logits})).ok);
  // Entropy is 0 for one-hot rows and log L for uniform rows.
  CHECK(sharing::row_entropy(ad::constant(Mat::Constant(4, 4, 0.25))).item() == doctest::Approx(std::log(4.0)));

  // ‖A‖_* and its gradient U Vᵀ.
  const Mat a = randn(rng, 4, 4);
  Mat grad;
  const double value = sharing::nuclear_norm(a, &grad);
  CHECK(value == doctest::Approx(Eigen::JacobiSVD<Mat>(a).singularValues().sum()));
  const double eps = 1e-6;
  for (long k = 0; k < a.size(); ++k) {
    Mat up = a, down = a;
    up(k) += eps;
    down(k) -= eps;
    CHECK((sharing::nuclear_norm(up) - sharing::nuclear_norm(down)) / (2 * eps) == doctest::Approx(grad(k)).epsilon(1e-6));
  }
  CHECK(sharing::nuclear_norm(Mat::Identity(3, 3)) == doctest::Approx(3.0));
  CHECK(sharing::nuclear_norm(sharing::all_sharing(3)) == doctest::Approx(std::sqrt(3.0)));
}

TEST_CASE("sharing: partition distance between sharing matrices") {
  auto sharing = [](const std::vector<int>& groups) {
    Mat a = Mat::Zero(static_cast<long>(groups.size()), static_cast<long>(groups.size()));
    for (std::size_t i = 0; i < groups.size(); ++i) a(static_cast<long>(i), groups[i]) = 1.0;
    return a;
  };
  auto distance = [](const Mat& a, const Mat& b) {
    return analysis::partition_distance(sharing::sharing_groups(a), sharing::sharing_groups(b));
  };
  const Mat even_odd = sharing({0, 1, 0, 1, 0, 1});
  CHECK(distance(even_odd, even_odd) == 0);                          // identical
  CHECK(distance(even_odd, sharing({4, 2, 4, 2, 4, 2})) == 0);      // groups relabelled
  CHECK(distance(even_odd, sharing({0, 1, 0, 1, 0, 0})) == 1);      // one position moved
  CHECK(distance(sharing({0, 0, 0, 0, 0, 0}), sharing::identity_sharing(6)) == 5);  // all different
  CHECK(distance(sharing::all_sharing(6), sharing({3, 3, 3, 3, 3, 3})) == 0);
  // A soft sharing counts by its row argmax.
  Mat soft = even_odd * 0.6;
  soft.array() += 0.4 / 6;
  CHECK(distance(soft, even_odd) == 0);
}
