// MAML / MSR: the meta-gradient against finite differences, MSR with the true
// convolution sharing against maml-conv, first order against second order.
#include "gradcheck.hpp"
#include "learn/adam.hpp"
#include "methods/msr/maml.hpp"
#include "methods/msr/meta_train.hpp"
#include "methods/msr/fused.hpp"
#include "methods/msr/models.hpp"
#include "tasks/locally_connected.hpp"

#include <doctest/doctest.h>

#include "conv_tasks.hpp"

using namespace symlearn;
using ad::Mat;
using ad::Var;

using testutil::conv_episode;

namespace {

msr::MetaModel make(const std::string& kind, int n, int s, msr::LrMode mode, std::uint64_t seed = 1) {
  msr::Arch a;
  a.kind = kind;
  a.input_dim = n;
  a.output_dim = n - s + 1;
  a.kernel = s;
  a.latent = s;
  a.kron_in = 2;
  a.kron_out = 3;
  a.lr_mode = mode;
  a.inner_lr = 0.3;
  Rng rng(seed);
  auto model = msr::MetaModel::init(a, rng, 0.3);  // larger U so every term matters
  return model;
}

// The mean query loss and meta-gradient of the episodes through the general autodiff.
std::vector<Mat> autodiff_mean(const msr::MetaModel& model, const msr::InnerLoop& inner,
                               const std::vector<tasks::Episode>& eps, double* loss) {
  std::vector<Mat> grads;
  *loss = 0;
  for (const auto& e : eps) {
    const auto r = msr::run_episode(model, inner, e, true);
    *loss += r.query_loss / eps.size();
    if (grads.empty()) grads.assign(r.grads.size(), Mat());
    for (std::size_t i = 0; i < grads.size(); ++i)
      grads[i] = grads[i].size() ? Mat(grads[i] + r.grads[i] / eps.size()) : Mat(r.grads[i] / eps.size());
  }
  return grads;
}

std::vector<Mat> values_of(const msr::MetaModel& m) {
  std::vector<Mat> v;
  for (const auto& p : m.params) v.push_back(p.value);
  return v;
}
}  // namespace

TEST_CASE("maml: the second-order meta-gradient matches finite differences of the post-adaptation loss") {
  Rng rng(3);
  const tasks::Episode e = conv_episode(rng, 8, 3, 2, 5);
  for (const char* kind : {"msr-fc", "msr-kron", "maml-fc", "maml-lc", "maml-conv"}) {
    for (auto mode : {msr::LrMode::layer, msr::LrMode::param}) {
      for (int steps : {1, 2}) {
        CAPTURE(kind);
        CAPTURE(steps);
        const msr::MetaModel model = make(kind, 8, 3, mode);
        msr::InnerLoop inner{steps, false};
        // The loss as a function of every meta-parameter (U, v0, inner lr, ...).
        gradcheck::Fn f = [&](const std::vector<Var>& p) { return msr::episode_loss(model, inner, e, p, true); };
        const auto xs = values_of(model);
        gradcheck::Tolerance tol;
        tol.rtol1 = 1e-5;
        tol.atol1 = 1e-7;
        const auto c = gradcheck::check_first_order(f, xs, tol);
        CHECK_MESSAGE(c.ok, c.message);
        // And run_episode returns that same gradient.
        const auto r = msr::run_episode(model, inner, e, true);
        const auto g = gradcheck::ad_grad(f, xs);
        for (std::size_t i = 0; i < g.size(); ++i) CHECK((r.grads[i] - g[i]).norm() <= 1e-12 * (1 + g[i].norm()));
      }
    }
  }
}

TEST_CASE("maml: msr-fc with U fixed to the true convolution sharing computes what maml-conv computes") {
  Rng rng(5);
  const int n = 12, s = 3, m = n - s + 1;
  const tasks::Episode e = conv_episode(rng, n, s, 1, 9);
  msr::MetaModel msr = make("msr-fc", n, s, msr::LrMode::layer);
  msr::MetaModel conv = make("maml-conv", n, s, msr::LrMode::layer);
  msr.params[msr.find("U")].value = tasks::lc_symmetry(Mat::Ones(m, 1), n, s);
  msr.params[msr.find("v0")].value = conv.params[conv.find("f0")].value;
  msr.params[msr.find("inner_lr_v0")].value = conv.params[conv.find("inner_lr_f0")].value;
  for (bool first_order : {false, true}) {
    msr::InnerLoop inner{2, first_order};
    const auto a = msr::run_episode(msr, inner, e, true);
    const auto b = msr::run_episode(conv, inner, e, true);
    CHECK(a.query_loss == doctest::Approx(b.query_loss).epsilon(1e-12));
    // d/dv0 and d/dlr of MSR equal d/df0 and d/dlr of the convolution.
    CHECK((a.grads[msr.find("v0")] - b.grads[conv.find("f0")]).norm() < 1e-10);
    CHECK((a.grads[msr.find("inner_lr_v0")] - b.grads[conv.find("inner_lr_f0")]).norm() < 1e-10);
  }
}

TEST_CASE("maml: first order differs from second order by exactly the dropped term") {
  Rng rng(9);
  const tasks::Episode e = conv_episode(rng, 9, 3, 2, 6);
  const msr::MetaModel model = make("msr-fc", 9, 3, msr::LrMode::layer);
  const auto so = msr::run_episode(model, {1, false}, e, true);
  const auto fo = msr::run_episode(model, {1, true}, e, true);

  // One inner step v' = v0 - lr g(U, v0). The chain rule through g gives the
  // dropped term  -(d g / d theta)^T (lr * dLq/dv'), a vector-Jacobian product
  // of the inner gradient, computed here on its own.
  std::vector<Var> p;
  for (const auto& prm : model.params) p.push_back(ad::param(prm.value));
  const int iu = model.find("U"), iv = model.find("v0"), il = model.find("inner_lr_v0");
  const Var xs = ad::constant(e.xs), ys = ad::constant(e.ys);
  const Var g = ad::grad(ad::mse_loss(model.forward(p, xs), ys), {p[iv]}, true)[0];
  std::vector<Var> fast = p;
  fast[iv] = ad::sub(p[iv], ad::mul(ad::broadcast(p[il], g.rows(), g.cols()), g.detach()));
  const Var lq = ad::mse_loss(model.forward(fast, ad::constant(e.xq)), ad::constant(e.yq));
  const Mat dlq_dv = ad::grad(lq, {fast[iv]})[0].value();
  const double lr = model.params[il].value(0, 0);
  const Var inner_product = ad::sum(ad::mul(g, ad::constant(lr * dlq_dv)));
  const auto dropped = ad::grad(inner_product, {p[iu], p[iv]});

  CHECK((so.grads[iu] - fo.grads[iu] + dropped[0].value()).norm() < 1e-10 * (1 + so.grads[iu].norm()));
  CHECK((so.grads[iv] - fo.grads[iv] + dropped[1].value()).norm() < 1e-10 * (1 + so.grads[iv].norm()));
  CHECK((so.grads[il] - fo.grads[il]).norm() < 1e-12);  // lr enters v' directly in both
  CHECK(dropped[0].value().norm() > 1e-3);               // and the dropped term is not trivially zero
  CHECK(so.query_loss == fo.query_loss);
}

TEST_CASE("maml: Adam takes the textbook first step") {
  Mat w = Mat::Constant(2, 1, 1.0);
  std::vector<Mat*> ps{&w};
  learn::Adam adam;
  adam.lr = 0.1;
  adam.update(ps, {(Mat(2, 1) << 3.0, -0.5).finished()});
  // First step: mhat = g, vhat = g^2, so w -= lr * g / (|g| + eps) = lr * sign(g).
  CHECK(w(0, 0) == doctest::Approx(0.9).epsilon(1e-7));
  CHECK(w(1, 0) == doctest::Approx(1.1).epsilon(1e-7));
  CHECK(adam.step == 1);
}

TEST_CASE("maml: batch plans depend only on (seed, step)") {
  msr::MetaTrainOptions opt;
  opt.meta_batch = 8;
  opt.support = 2;
  opt.query = 5;
  const auto a = msr::plan_batch(opt, 100, 20, 7), b = msr::plan_batch(opt, 100, 20, 7);
  CHECK(a.tasks == b.tasks);
  CHECK(a.rows == b.rows);
  CHECK(a.tasks != msr::plan_batch(opt, 100, 20, 8).tasks);
  for (std::size_t i = 0; i < a.tasks.size(); ++i) {
    CHECK(a.rows[i].size() == 7);
    for (std::size_t j = 0; j < a.tasks.size(); ++j)
      if (i != j) CHECK(a.tasks[i] != a.tasks[j]);
  }
}

TEST_CASE("maml: training is identical for any thread count") {
  tasks::RegressionSplit data;
  data.tasks = 60;
  data.samples = 6;
  data.input_dim = 7;
  data.output_dim = 5;
  Rng rng(2);
  for (int i = 0; i < 60 * 6 * 7; ++i) data.x.push_back(rng.normal());
  for (int i = 0; i < 60 * 6 * 5; ++i) data.y.push_back(rng.normal());
  std::vector<Mat> u;
  for (int threads : {1, 2, 3}) {
    msr::TrainState st;
    st.model = make("msr-fc", 7, 3, msr::LrMode::layer);
    st.options.steps = 5;
    st.options.meta_batch = 7;
    st.options.support = 2;
    st.options.query = 4;
    st.options.val_tasks = 10;
    st.options.val_every = 2;
    CHECK(msr::meta_train(st, data, threads, {}) == msr::TrainStatus::finished);
    u.push_back(st.model.params[0].value);
    CHECK(st.log.train_loss.size() == 5);
    CHECK(st.log.val_step == std::vector<std::int64_t>{2, 4, 5});
  }
  CHECK(u[0] == u[1]);
  CHECK(u[0] == u[2]);
}

TEST_CASE("maml: the fused msr-fc and msr-kron kernels compute the autodiff meta-gradient, for any number of inner steps") {
  Rng rng(21);
  for (const char* kind : {"msr-fc", "msr-kron"})
  for (auto mode : {msr::LrMode::fixed, msr::LrMode::layer, msr::LrMode::param}) {
    for (bool first_order : {false, true}) {
      for (int support : {1, 3}) {
        for (int steps : {1, 2, 3}) {
          CAPTURE(kind);
          CAPTURE(static_cast<int>(mode));
          CAPTURE(first_order);
          CAPTURE(support);
          CAPTURE(steps);
          const msr::MetaModel model = make(kind, 10, 3, mode, 4);
          std::vector<tasks::Episode> eps;
          for (int t = 0; t < 11; ++t) eps.push_back(conv_episode(rng, 10, 3, support, 5));
          const msr::InnerLoop inner{steps, first_order};
          REQUIRE(msr::fused_supported(model, inner));
          // The reference: the mean of the autodiff episodes.
          double loss = 0;
          const std::vector<Mat> grads = autodiff_mean(model, inner, eps, &loss);
          const auto fused = msr::msr_fused_batch(model, inner, eps, 1);
          CHECK(fused.mean_loss == doctest::Approx(loss).epsilon(1e-12));
          REQUIRE(fused.mean_grads.size() == grads.size());
          for (std::size_t i = 0; i < grads.size(); ++i) {
            CAPTURE(model.params[i].name);
            CHECK((fused.mean_grads[i] - grads[i]).norm() <= 1e-10 * (1 + grads[i].norm()));
          }
          // Bit-identical whatever the thread count.
          const auto threaded = msr::msr_fused_batch(model, inner, eps, 3);
          CHECK(threaded.mean_loss == fused.mean_loss);
          for (std::size_t i = 0; i < grads.size(); ++i) CHECK(threaded.mean_grads[i] == fused.mean_grads[i]);
          // float32 to float rounding.
          const auto f32 = msr::msr_fused_batch(model, inner, eps, 2, learn::Precision::float32);
          for (std::size_t i = 0; i < grads.size(); ++i)
            CHECK((f32.mean_grads[i] - grads[i]).norm() <= 1e-4 * (1 + grads[i].norm()));
        }
      }
    }
  }
  CHECK(msr::fused_supported(make("msr-fc", 10, 3, msr::LrMode::layer), {5, false}));
  CHECK_FALSE(msr::fused_supported(make("maml-conv", 10, 3, msr::LrMode::layer), {2, false}));
  CHECK_FALSE(msr::fused_supported(make("maml-lc", 10, 3, msr::LrMode::layer), {1, false}));
}

TEST_CASE("maml: the fused kernel covers maml-conv, and its float32 path agrees with float64") {
  Rng rng(22);
  for (const char* kind : {"msr-fc", "maml-conv"}) {
    for (auto mode : {msr::LrMode::fixed, msr::LrMode::layer, msr::LrMode::param}) {
      for (bool first_order : {false, true}) {
        CAPTURE(kind);
        CAPTURE(static_cast<int>(mode));
        CAPTURE(first_order);
        const msr::MetaModel model = make(kind, 12, 3, mode, 5);
        std::vector<tasks::Episode> eps;
        for (int t = 0; t < 13; ++t) eps.push_back(conv_episode(rng, 12, 3, 2, 6));
        const msr::InnerLoop inner{1, first_order};
        REQUIRE(msr::fused_supported(model, inner));
        double loss = 0;
        const std::vector<Mat> grads = autodiff_mean(model, inner, eps, &loss);
        const auto d = msr::msr_fused_batch(model, inner, eps, 1, learn::Precision::float64);
        const auto f = msr::msr_fused_batch(model, inner, eps, 2, learn::Precision::float32);
        CHECK(d.mean_loss == doctest::Approx(loss).epsilon(1e-12));
        CHECK(f.mean_loss == doctest::Approx(loss).epsilon(1e-5));
        REQUIRE(d.mean_grads.size() == grads.size());
        REQUIRE(f.mean_grads.size() == grads.size());
        for (std::size_t i = 0; i < grads.size(); ++i) {
          CAPTURE(model.params[i].name);
          CHECK((d.mean_grads[i] - grads[i]).norm() <= 1e-10 * (1 + grads[i].norm()));
          CHECK((f.mean_grads[i] - grads[i]).norm() <= 1e-5 * (1 + grads[i].norm()));
        }
        // float32 is deterministic across thread counts too.
        const auto f1 = msr::msr_fused_batch(model, inner, eps, 1, learn::Precision::float32);
        CHECK(f1.mean_loss == f.mean_loss);
        for (std::size_t i = 0; i < grads.size(); ++i) CHECK(f1.mean_grads[i] == f.mean_grads[i]);
      }
    }
  }
}
