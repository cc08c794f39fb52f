// The ridge inner solver (methods/msr/fc_kernel.hpp, kron_kernel.hpp), for
// msr-fc and msr-kron: its meta-gradient against
// finite differences of the query loss (first and second order), float32
// against float64, thread counts, and the exact fit it exists for.
#include "methods/msr/fused.hpp"
#include "methods/msr/maml.hpp"
#include "methods/msr/models.hpp"
#include "tasks/locally_connected.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include "conv_tasks.hpp"

#include <cmath>
#include <stdexcept>

using namespace symlearn;
using ad::Mat;

using testutil::conv_episode;

namespace {

// msr-fc with k columns of U, or msr-kron with k1 = k2 = k.
msr::MetaModel ridge_model(int n, int s, int k, double lambda, std::uint64_t seed = 3,
                           const std::string& kind = "msr-fc") {
  msr::Arch a;
  a.kind = kind;
  a.input_dim = n;
  a.output_dim = n - s + 1;
  a.kernel = s;
  a.latent = k;
  a.kron_in = a.kron_out = k;
  a.inner_solver = "ridge";
  a.ridge_lambda = lambda;
  Rng rng(seed);
  return msr::MetaModel::init(a, rng, 0.3);
}

double mean_loss(const msr::MetaModel& model, const std::vector<tasks::Episode>& eps) {
  double l = 0;
  for (const auto& e : eps) l += msr::ridge_query_loss(model, e);
  return l / static_cast<double>(eps.size());
}

// Every entry of every parameter moved by +-h.
std::vector<Mat> central_differences(msr::MetaModel model, const std::vector<tasks::Episode>& eps, double h) {
  std::vector<Mat> g;
  for (auto& p : model.params) {
    Mat gi(p.value.rows(), p.value.cols());
    for (Eigen::Index i = 0; i < p.value.size(); ++i) {
      const double x = p.value(i);
      p.value(i) = x + h;
      const double up = mean_loss(model, eps);
      p.value(i) = x - h;
      const double down = mean_loss(model, eps);
      p.value(i) = x;
      gi(i) = (up - down) / (2 * h);
    }
    g.push_back(gi);
  }
  return g;
}

const std::vector<std::string> kKinds = {"msr-fc", "msr-kron"};
}  // namespace

TEST_CASE("ridge: the meta-gradient matches central differences in U, v0 and log lambda") {
  Rng rng(41);
  for (const std::string& kind : kKinds)
  for (int support : {1, 3}) {
    for (int k : {3, 5}) {
      CAPTURE(kind);
      CAPTURE(support);
      CAPTURE(k);
      const msr::MetaModel model = ridge_model(9, 3, k, 0.05, 3, kind);
      REQUIRE(model.find("log_lambda") >= 0);
      REQUIRE(model.find("inner_lr_v0") < 0);  // no learning rate: nothing steps
      std::vector<tasks::Episode> eps;
      for (int t = 0; t < 5; ++t) eps.push_back(conv_episode(rng, 9, 3, support, 4, 0.1));
      const msr::InnerLoop inner;
      REQUIRE(msr::fused_supported(model, inner));
      const auto fused = msr::msr_fused_batch(model, inner, eps, 1);
      CHECK(fused.mean_loss == doctest::Approx(mean_loss(model, eps)).epsilon(1e-12));
      const std::vector<Mat> fd = central_differences(model, eps, 1e-6);
      REQUIRE(fused.mean_grads.size() == fd.size());
      for (std::size_t i = 0; i < fd.size(); ++i) {
        CAPTURE(model.params[i].name);
        CHECK((fused.mean_grads[i] - fd[i]).norm() <= 1e-6 * (1 + fd[i].norm()));
      }
    }
  }
}

TEST_CASE("ridge: second order, the gradient's change along a direction matches the loss's curvature") {
  // d^T (g(p + h d) - g(p - h d)) / 2h  against  (L(p + h d) - 2 L(p) + L(p - h d)) / h^2.
  Rng rng(42);
  for (const std::string& kind : kKinds) {
  CAPTURE(kind);
  const msr::MetaModel model = ridge_model(8, 3, 4, 0.1, 3, kind);
  std::vector<tasks::Episode> eps;
  for (int t = 0; t < 4; ++t) eps.push_back(conv_episode(rng, 8, 3, 2, 5, 0.1));
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<Mat> d;
    for (const auto& p : model.params) {
      Mat di(p.value.rows(), p.value.cols());
      for (Eigen::Index i = 0; i < di.size(); ++i) di(i) = rng.normal();
      d.push_back(di);
    }
    auto moved = [&](double t) {
      msr::MetaModel m = model;
      for (std::size_t i = 0; i < d.size(); ++i) m.params[i].value += t * d[i];
      return m;
    };
    const double h = 1e-4;
    const auto gu = msr::msr_fused_batch(moved(h), {}, eps, 1), gd = msr::msr_fused_batch(moved(-h), {}, eps, 1);
    double from_gradient = 0;
    for (std::size_t i = 0; i < d.size(); ++i)
      from_gradient += (d[i].array() * (gu.mean_grads[i] - gd.mean_grads[i]).array()).sum() / (2 * h);
    const double from_loss = (mean_loss(moved(h), eps) - 2 * mean_loss(model, eps) + mean_loss(moved(-h), eps)) / (h * h);
    CHECK(from_gradient == doctest::Approx(from_loss).epsilon(1e-3));
  }
  }
}

TEST_CASE("ridge: float32 agrees with float64, and no thread count changes a bit") {
  Rng rng(43);
  for (const std::string& kind : kKinds) {
  CAPTURE(kind);
  const msr::MetaModel model = ridge_model(12, 3, 6, 0.02, 3, kind);
  std::vector<tasks::Episode> eps;
  for (int t = 0; t < 37; ++t) eps.push_back(conv_episode(rng, 12, 3, 2, 6, 0.05));  // three chunks of 16
  const auto d = msr::msr_fused_batch(model, {}, eps, 1, learn::Precision::float64);
  const auto f = msr::msr_fused_batch(model, {}, eps, 2, learn::Precision::float32);
  CHECK(f.mean_loss == doctest::Approx(d.mean_loss).epsilon(1e-4));
  for (std::size_t i = 0; i < d.mean_grads.size(); ++i) {
    CAPTURE(model.params[i].name);
    CHECK((f.mean_grads[i] - d.mean_grads[i]).norm() <= 1e-4 * (1 + d.mean_grads[i].norm()));
  }
  for (int threads : {2, 3}) {
    const auto dt = msr::msr_fused_batch(model, {}, eps, threads, learn::Precision::float64);
    CHECK(dt.mean_loss == d.mean_loss);
    for (std::size_t i = 0; i < d.mean_grads.size(); ++i) CHECK(dt.mean_grads[i] == d.mean_grads[i]);
  }
  }
}

TEST_CASE("ridge: with U the true convolution sharing and lambda -> 0, one support example fits the filter") {
  Rng rng(44);
  const int n = 20, s = 3, m = n - s + 1;
  msr::MetaModel model = ridge_model(n, s, s, 1e-12);
  Mat& u = model.params[model.find("U")].value;
  for (int t = 0; t < s; ++t) {  // column t: the band W[j, j + t] = 1
    Mat e = Mat::Zero(m, s);
    e.col(t).setOnes();
    u.col(t) = tasks::lc_weights(e, n).reshaped();
  }
  double worst = 0;
  for (int t = 0; t < 20; ++t) worst = std::max(worst, msr::ridge_query_loss(model, conv_episode(rng, n, s, 1, 19)));
  CHECK(worst < 1e-18);
  // The same fit through a random U of the same size leaves a real error.
  CHECK(msr::ridge_query_loss(ridge_model(n, s, s, 1e-12), conv_episode(rng, n, s, 1, 19)) > 1e-3);
}

TEST_CASE("ridge: msr-kron with U1 = I and U2 = I is the exact least-squares fit of a 2 x 4 layer") {
  // W = U2 V U1^T = V (k1 = n, k2 = m): 8 unknowns, and 4 support examples
  // give 8 equations, so lambda -> 0 recovers any W exactly.
  msr::MetaModel model = ridge_model(4, 3, 2, 1e-12, 3, "msr-kron");  // n = 4, m = 2
  model.arch.kron_in = 4;
  model.params[model.find("U1")].value = Mat::Identity(4, 4);
  model.params[model.find("U2")].value = Mat::Identity(2, 2);
  model.params[model.find("v0")].value = Mat::Zero(8, 1);
  tasks::Episode e;
  const Mat w = Mat::Random(2, 4);
  e.xs = Mat::Random(4, 4);
  e.ys = e.xs * w.transpose();
  e.xq = Mat::Random(10, 4);
  e.yq = e.xq * w.transpose();
  CHECK(msr::ridge_query_loss(model, e) < 1e-18);
  e.xs.conservativeResize(3, 4);  // fewer equations than unknowns: a real error
  e.ys.conservativeResize(3, 2);
  CHECK(msr::ridge_query_loss(model, e) > 1e-4);
}

TEST_CASE("ridge: only msr-fc and msr-kron, only the fused kernel") {
  msr::Arch a;
  a.kind = "maml-fc";
  a.input_dim = 5;
  a.output_dim = 4;
  a.inner_solver = "ridge";
  CHECK_THROWS_WITH_AS(a.validate(), "--inner-solver ridge is implemented for msr-fc and msr-kron only", InputError);
  a.kind = "msr-fc";
  a.latent = 2;
  a.inner_solver = "newton";
  CHECK_THROWS_AS(a.validate(), InputError);
  a.inner_solver = "ridge";
  a.ridge_lambda = 0;
  CHECK_THROWS_AS(a.validate(), InputError);
  const msr::MetaModel model = ridge_model(6, 3, 2, 0.1);
  Rng rng(1);
  CHECK_THROWS_AS(msr::run_episode(model, {}, conv_episode(rng, 6, 3, 1, 2), true), std::logic_error);
}
