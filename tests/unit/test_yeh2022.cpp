// The pieces of the original learned-sharing protocol (methods/sharing/yeh2022.hpp):
// the column group norm and its gradient, the Neumann series without its α
// prefactor against its closed form, AdamW's decoupled decay, the plateau
// schedule, L1 on labels standardised with train ∪ val, the preset, and the
// weights --refine carries from a partition to its merges and splits.
#include "learn/adam.hpp"
#include "learn/bilevel.hpp"
#include "methods/sharing/refine.hpp"
#include "methods/sharing/yeh2022.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

using namespace symlearn;
using ad::Mat;
using ad::Var;

namespace {

// L_train = ½ wᵀ H w − wᵀ B λ (w* = H⁻¹ B λ), L_val = ½ |w − c|²: the
// hypergradient is exactly Bᵀ H⁻¹ ∂L_val/∂w, and Bᵀ v for an approximation v.
struct Quadratic : learn::BilevelProblem {
  Mat h, b, c;
  Var train_loss(const std::vector<Var>& w, const Var& lambda) const override {
    const Var hw = ad::matmul(ad::constant(h), w[0]);
    return ad::sub(ad::scale(ad::sum(ad::mul(w[0], hw)), 0.5), ad::sum(ad::mul(w[0], ad::matmul(ad::constant(b), lambda))));
  }
  Var val_loss(const std::vector<Var>& w, const Var&) const override {
    return ad::scale(ad::sum(ad::square(ad::sub(w[0], ad::constant(c)))), 0.5);
  }
};

}  // namespace

TEST_CASE("yeh2022: the column group norm and its gradient against central differences") {
  Rng rng(3);
  Mat a(4, 3);
  for (Eigen::Index i = 0; i < a.size(); ++i) a(i) = rng.uniform(0.05, 1.0);
  Mat g;
  const double v = sharing::column_group_norm(a, &g);
  CHECK(v == doctest::Approx((a.col(0).norm() + a.col(1).norm() + a.col(2).norm()) / 4.0));
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    Mat up = a, down = a;
    up(i) += 1e-6;
    down(i) -= 1e-6;
    CHECK(g(i) == doctest::Approx((sharing::column_group_norm(up) - sharing::column_group_norm(down)) / 2e-6).epsilon(1e-6));
  }
  // One-hot rows in one column (full sharing) against the identity: fewer
  // groups, smaller norm (√L / L against 1).
  Mat all = Mat::Zero(4, 4), id = Mat::Identity(4, 4);
  all.col(0).setOnes();
  CHECK(sharing::column_group_norm(all) == doctest::Approx(0.5));
  CHECK(sharing::column_group_norm(id) == doctest::Approx(1.0));
  Mat zero = Mat::Zero(2, 2), gz;
  CHECK(sharing::column_group_norm(zero, &gz) == 0.0);
  CHECK(gz.isZero());
}

TEST_CASE("yeh2022: Neumann without the prefactor is sum_{k<=K} (I - aH)^k g, K + 1 terms") {
  Quadratic q;
  q.h = (Mat(2, 2) << 2.0, 0.5, 0.5, 1.0).finished();
  q.b = (Mat(2, 1) << 1.0, -2.0).finished();
  q.c = (Mat(2, 1) << 0.3, 0.7).finished();
  const Mat lambda = Mat::Constant(1, 1, 0.4);
  const Mat w = q.h.ldlt().solve(q.b * lambda);  // the inner optimum
  const Mat g = w - q.c;                          // ∂L_val/∂w
  learn::HypergradOptions o;
  o.method = learn::HypergradMethod::neumann;
  o.iterations = 20;
  o.neumann_alpha = 0.05;
  o.neumann_prefactor = false;
  const Mat i2 = Mat::Identity(2, 2), step = i2 - o.neumann_alpha * q.h;
  Mat power = i2, sum = Mat::Zero(2, 2);
  for (int k = 0; k <= o.iterations; ++k) {
    sum += power;
    power = power * step;
  }
  // Closed form of the partial sum: (aH)^-1 (I - (I - aH)^{K+1}).
  CHECK((sum - (o.neumann_alpha * q.h).inverse() * (i2 - power)).norm() < 1e-12);
  const Mat expected = q.b.transpose() * (sum * g);  // direct term 0: L_val has no λ
  const learn::Hypergradient hg = learn::hypergradient(q, {w}, lambda, o);
  CHECK(hg.grad(0, 0) == doctest::Approx(expected(0, 0)).epsilon(1e-10));
  CHECK(hg.iterations == 20);
  // With the prefactor and many terms it converges to the exact Bᵀ H⁻¹ g;
  // without it, it is 1/α times that truncated series.
  o.neumann_prefactor = true;
  o.iterations = 2000;
  const learn::Hypergradient exact = learn::hypergradient(q, {w}, lambda, o);
  CHECK(exact.grad(0, 0) == doctest::Approx((q.b.transpose() * q.h.ldlt().solve(g))(0, 0)).epsilon(1e-8));
}

TEST_CASE("yeh2022: AdamW shrinks the parameters by (1 - lr * decay) outside the moments") {
  Mat w = Mat::Constant(2, 1, 2.0), plain = w;
  std::vector<Mat*> pw{&w}, pp{&plain};
  learn::Adam adamw, adam;
  adamw.lr = adam.lr = 0.1;
  adamw.decay = 0.01;
  const Mat g = (Mat(2, 1) << 3.0, -0.5).finished();
  adamw.update(pw, {g});
  adam.update(pp, {g});
  // First step: w = 2 (1 - 0.001) - 0.1 sign(g).
  CHECK(w(0, 0) == doctest::Approx(2.0 * 0.999 - 0.1).epsilon(1e-9));
  CHECK(w(1, 0) == doctest::Approx(2.0 * 0.999 + 0.1).epsilon(1e-9));
  CHECK((w - plain).norm() == doctest::Approx(std::sqrt(2.0) * 0.002).epsilon(1e-6));
  CHECK(adamw.m[0] == adam.m[0]);  // the decay never enters the moments
}

TEST_CASE("yeh2022: the plateau schedule halves after `patience` steps without a relative 1e-4 gain") {
  sharing::Plateau p;
  p.patience = 3;
  p.start = 2;
  double lr = 1.0;
  lr = p.step(100.0, lr);  // within the start: ignored
  lr = p.step(100.0, lr);
  CHECK(lr == 1.0);
  lr = p.step(10.0, lr);                 // best 10
  for (int i = 0; i < 3; ++i) lr = p.step(9.9995, lr);  // within 1e-4: no gain
  CHECK(lr == 1.0);
  lr = p.step(9.9995, lr);  // the 4th bad step: cut
  CHECK(lr == 0.5);
  lr = p.step(5.0, lr);  // a real gain resets the count
  for (int i = 0; i < 3; ++i) lr = p.step(5.0, lr);
  CHECK(lr == 0.5);
}

TEST_CASE("yeh2022: labels standardised with the train and val statistics together; L1 on them") {
  sharing::SumSplit train, val;
  train.n = 2;
  train.y = (Eigen::VectorXd(2) << 1.0, 3.0).finished();
  val.n = 2;
  val.y = (Eigen::VectorXd(2) << 5.0, 7.0).finished();
  const auto [mean, sd] = sharing::joint_label_stats(train, val);
  CHECK(mean == doctest::Approx(4.0));
  CHECK(sd == doctest::Approx(std::sqrt(5.0)));  // population std of 1, 3, 5, 7
  const Var l1 = ad::l1_loss(ad::constant((Mat(1, 2) << 1.0, -1.0).finished()), ad::constant(Mat::Zero(1, 2)));
  CHECK(l1.item() == doctest::Approx(1.0));
}

TEST_CASE("yeh2022: the preset fills what the user did not set, and Xavier's bound") {
  sharing::SharingOptions o;
  o.outer_lr = 0.3;  // as if given on the command line
  sharing::apply_yeh2022_defaults(o, false, 10, [](const std::string& flag) { return flag == "--outer-lr"; });
  CHECK(o.outer_lr == 0.3);
  CHECK(o.outer_steps == 500);
  CHECK(o.inner_steps == 250);
  CHECK(o.inner_lr == 1e-3);
  CHECK(o.hypergrad.method == learn::HypergradMethod::neumann);
  CHECK(o.group_norm == 0.05);
  CHECK(o.entropy == 0.025);
  CHECK(o.nuclear == 0.0);
  CHECK(o.logit_init_bound == 0.1);
  o.validate();
  sharing::SharingArch arch;
  arch.length = 10;
  Rng rng(1);
  const Mat psi = sharing::xavier_psi(arch, rng);
  CHECK(psi.rows() == 500);
  CHECK(psi.cols() == 500);
  const double bound = std::sqrt(6.0 / (500.0 * (50 + 10)));
  CHECK(psi.cwiseAbs().maxCoeff() <= bound);
  CHECK(psi.cwiseAbs().maxCoeff() > 0.99 * bound);
}

TEST_CASE("yeh2022: gaussian preset, RMSprop's step, and the single loop finding well separated groups") {
  sharing::SharingOptions o;
  sharing::apply_yeh2022_defaults(o, true, 6, [](const std::string&) { return false; });
  CHECK(o.outer_steps == 1000);
  CHECK(o.outer_lr == 2e-2);
  CHECK(o.group_norm == doctest::Approx(0.06));  // 1e-2 · Σ_j ‖A_j‖ = 0.06 · Σ_j ‖A_j‖ / 6
  CHECK(o.entropy == 1e-2);
  // PyTorch's RMSprop, first step: v = 0.01 g², p -= lr g / (0.1 |g| + eps) = 10 lr sign(g).
  sharing::RmsProp rms;
  rms.lr = 0.01;
  Mat p = Mat::Constant(1, 2, 1.0);
  rms.update(p, (Mat(1, 2) << 2.0, -3.0).finished());
  CHECK(p(0, 0) == doctest::Approx(0.9).epsilon(1e-6));
  CHECK(p(0, 1) == doctest::Approx(1.1).epsilon(1e-6));
  // Coordinates 0, 2 share mean 0 and 1, 3 share mean 10 (σ = 0.3): the
  // learned hard sharing has two groups matching them, and the refit means.
  Rng rng(9);
  sharing::SharingData d;
  d.kind = "gaussian-sharing";
  auto draw = [&](long n) {
    Eigen::MatrixXd x(n, 4);
    for (long i = 0; i < n; ++i)
      for (int k = 0; k < 4; ++k) x(i, k) = (k % 2 ? 10.0 : 0.0) + 0.3 * rng.normal();
    return x;
  };
  d.gtrain = draw(30);
  d.gval = draw(70);
  sharing::SharingArch arch;
  arch.task = "gaussian-sharing";
  arch.length = 4;
  sharing::apply_yeh2022_defaults(o, true, 4, [](const std::string&) { return false; });
  o.protocol = "yeh2022";
  o.outer_steps = 300;
  const sharing::SharingModel m = sharing::train_sharing(arch, o, d);
  const std::vector<int> g = sharing::sharing_groups(m.sharing);
  CHECK(g[0] == g[2]);
  CHECK(g[1] == g[3]);
  CHECK(g[0] != g[1]);
  const Eigen::VectorXd theta = m.hard() * m.weights.at(0);
  CHECK(std::abs(theta(0)) < 0.1);
  CHECK(std::abs(theta(1) - 10.0) < 0.1);
  CHECK(theta(0) == theta(2));
  // The brute force over all 15 partitions of 4 finds the same groups.
  arch.kind = "sharing-brute";
  const sharing::SharingModel b = sharing::train_sharing(arch, o, d);
  const std::vector<int> bg = sharing::sharing_groups(b.sharing);
  CHECK(bg[0] == bg[2]);
  CHECK(bg[1] == bg[3]);
  CHECK(bg[0] != bg[1]);
  const Eigen::VectorXd bt = b.hard() * b.weights.at(0);
  CHECK(std::abs(bt(1) - 10.0) < 0.1);
  CHECK(bt(1) == bt(3));
  // One group's worth of data: the penalty makes the single group win.
  for (int k = 0; k < 4; ++k) {
    d.gtrain.col(k) = d.gtrain.col(0);
    d.gval.col(k) = d.gval.col(0);
  }
  const std::vector<int> one = sharing::sharing_groups(sharing::train_sharing(arch, o, d).sharing);
  CHECK(std::count(one.begin(), one.end(), one[0]) == 4);
}

TEST_CASE("yeh2022 --refine: weights carried to a split compute the parent's function; a merge averages by size") {
  sharing::SharingArch arch;
  arch.length = 4;
  arch.embed = 6;
  arch.hidden = 5;
  Rng rng(21);
  const std::vector<Mat> w = sharing::init_sum_weights(arch, rng);
  std::vector<long> tokens;
  for (int i = 0; i < 4 * 30; ++i) tokens.push_back(1 + static_cast<long>(rng.uniform(0, 9) * 0.999));
  const sharing::TokenBatch x = sharing::make_token_batch(tokens, 30, 4, arch.vocab);
  auto predict = [&](const std::vector<Mat>& weights, const std::vector<int>& p) {
    std::vector<Var> v;
    for (const Mat& m : weights) v.push_back(ad::constant(m));
    return sharing::sum_forward(arch, v, ad::constant(sharing::partition_sharing(p)), x).value();
  };
  const std::vector<int> parent = {0, 0, 1, 1}, split = {0, 1, 2, 2};
  const std::vector<Mat> ws = sharing::carried_weights(arch, w, parent, split);
  CHECK((predict(ws, split) - predict(w, parent)).cwiseAbs().maxCoeff() < 1e-12);
  // Merging the two halves of that split back gives the parent's weights again.
  const std::vector<Mat> wm = sharing::carried_weights(arch, ws, split, parent);
  CHECK((wm[1].row(0) - w[1].row(0)).cwiseAbs().maxCoeff() < 1e-15);
  // A merge of groups of sizes 1 and 2 weights their ψ and β 1 : 2.
  const std::vector<Mat> w3 = sharing::carried_weights(arch, w, {0, 1, 1, 2}, {0, 0, 0, 1});
  const int L = arch.length;
  for (int h = 0; h < arch.hidden; ++h)
    CHECK((w3[1].row(0 + L * h) - (w[1].row(0 + L * h) + 2 * w[1].row(1 + L * h)) / 3).cwiseAbs().maxCoeff() < 1e-15);
  CHECK((w3[2].row(0) - (w[2].row(0) + 2 * w[2].row(1)) / 3).cwiseAbs().maxCoeff() < 1e-15);
  CHECK((w3[1].row(1) - w[1].row(2)).cwiseAbs().maxCoeff() == 0);  // group 2 became group 1
  CHECK(w3[0] == w[0]);
  CHECK(w3[3] == w[3]);
}
