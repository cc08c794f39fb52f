// L-conv layer and the image models: finite-difference checks (first order
// and Hessian-vector products), L-conv with shift generators = a 3x3 CNN =
// a direct convolution, parameter storage round trips, training and resume.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "ad/ad.hpp"
#include "gradcheck.hpp"
#include "methods/images/backprop.hpp"
#include "methods/images/train.hpp"
#include "methods/images/models.hpp"

using namespace symlearn;
using ad::Index;
using ad::Mat;
using ad::Var;
using gradcheck::random_mat;

namespace {

// A direct 3x3 convolution with zero padding on one image h (HW x C):
// out[p, f] = b[f] + sum_{offset o, c} h[p + o, c] * W[o*C + c, f].
Mat direct_conv(const Mat& h, int height, int width, const Mat& w, const Mat& b) {
  const Index c = h.cols(), f = w.cols();
  const auto offsets = images::conv_offsets();
  Mat out(Index(height) * width, f);
  for (int r = 0; r < height; ++r)
    for (int q = 0; q < width; ++q)
      for (Index k = 0; k < f; ++k) {
        double s = b(0, k);
        for (std::size_t o = 0; o < offsets.size(); ++o) {
          const int rr = r + offsets[o].first, qq = q + offsets[o].second;
          if (rr < 0 || rr >= height || qq < 0 || qq >= width) continue;
          for (Index ch = 0; ch < c; ++ch) s += h(rr * width + qq, ch) * w(Index(o) * c + ch, k);
        }
        out(r * width + q, k) = s;
      }
  return out;
}

// The whole model's cross-entropy against finite differences (relu kinks are
// improbable at random points; a small step keeps clear of them); with `hv`,
// Hessian-vector products too, along a direction drawn from it.
void check_model_gradient(const images::ImageModel& m, const Mat& x, const std::vector<int>& labels,
                          std::mt19937* hv) {
  std::vector<Mat> xs;
  for (const auto& p : m.params) xs.push_back(p.value);
  const gradcheck::Fn fn = [&](const std::vector<Var>& p) { return ad::softmax_cross_entropy(m.forward(p, x), labels); };
  gradcheck::Tolerance tol;
  tol.eps1 = 1e-7;
  tol.rtol1 = 1e-4;
  tol.atol1 = 1e-6;
  const auto first = gradcheck::check_first_order(fn, xs, tol);
  CHECK_MESSAGE(first.ok, first.message);
  if (hv) {
    const auto second = gradcheck::check_second_order(fn, xs, gradcheck::random_like(*hv, xs));
    CHECK_MESSAGE(second.ok, second.message);
  }
}

}  // namespace

TEST_CASE("lconv layer: first-order and Hessian-vector finite-difference checks") {
  std::mt19937 rng(11);
  const int hw = 6, n = 2, dh = 2, c = 2, f = 3;
  const Index batch = 2;
  const Mat a = random_mat(rng, hw, batch * c);
  const std::vector<Mat> xs = {random_mat(rng, hw, n * dh), random_mat(rng, n * dh, hw),
                               random_mat(rng, (n + 1) * c, f), random_mat(rng, 1, f)};
  const Mat r1 = random_mat(rng, hw, batch * f), r2 = random_mat(rng, hw, batch * f);
  // The layer and a smooth nonlinearity after it (tanh: no kinks in the stencil).
  const gradcheck::Fn op = [&](const std::vector<Var>& p) {
    return ad::tanh(images::lconv_layer(ad::constant(a), p[0], p[1], p[2], p[3], n, batch));
  };
  const gradcheck::Fn fn = gradcheck::reduce_to_scalar(op, r1, r2);
  const auto first = gradcheck::check_first_order(fn, xs);
  CHECK_MESSAGE(first.ok, first.message);
  const auto second = gradcheck::check_second_order(fn, xs, gradcheck::random_like(rng, xs));
  CHECK_MESSAGE(second.ok, second.message);
  // With respect to the input too (a second layer differentiates through it).
  const gradcheck::Fn wrt_input = gradcheck::reduce_to_scalar(
      [&](const std::vector<Var>& p) {
        return ad::tanh(images::lconv_layer(p[0], ad::constant(xs[0]), ad::constant(xs[1]), ad::constant(xs[2]),
                                            ad::constant(xs[3]), n, batch));
      },
      r1, r2);
  CHECK(gradcheck::check_first_order(wrt_input, {a}).ok);
  CHECK(gradcheck::check_second_order(wrt_input, {a}, {random_mat(rng, hw, batch * c)}).ok);
  // The comparison is not blind: a gradient off by 1e-3 in one entry fails it.
  auto bad = gradcheck::ad_grad(fn, xs);
  bad[2](0, 0) += 1e-3;
  CHECK_FALSE(gradcheck::compare(bad, gradcheck::numeric_grad(fn, xs, 1e-6), 1e-5, 1e-6).ok);
}

TEST_CASE("lconv with shift generators computes exactly the 3x3 CNN (and a direct convolution)") {
  std::mt19937 rng(5);
  const int height = 5, width = 4, hw = height * width, c = 2, f = 3;
  const Index batch = 3;
  const auto offsets = images::conv_offsets();
  const int n = static_cast<int>(offsets.size()) - 1;  // 8 neighbour shifts; L_0 = I is the centre
  // U_i = S_i (HW x HW), V_i = I: d_h = HW.
  Mat u(hw, n * hw), v(n * hw, hw);
  for (int i = 0; i < n; ++i) {
    u.middleCols(i * hw, hw) = images::shift_matrix(height, width, offsets[i + 1].first, offsets[i + 1].second);
    v.middleRows(i * hw, hw) = Mat::Identity(hw, hw);
  }
  const Mat w = random_mat(rng, 9 * c, f), b = random_mat(rng, 1, f);
  const Mat x = random_mat(rng, batch, hw * c);  // channels last
  const Mat a = images::images_to_columns(x, hw, c);
  ad::NoGradGuard no_grad;
  const Mat lconv = images::lconv_layer(ad::constant(a), ad::constant(u), ad::constant(v), ad::constant(w),
                                        ad::constant(b), n, batch).value();
  const Mat cnn = images::conv3x3_layer(ad::constant(a), height, width, ad::constant(w), ad::constant(b), batch).value();
  CHECK(lconv == cnn);  // exactly: every sum has one non-zero product per offset
  for (Index img = 0; img < batch; ++img) {
    Mat h(hw, c);
    for (int p = 0; p < hw; ++p)
      for (int ch = 0; ch < c; ++ch) h(p, ch) = x(img, p * c + ch);
    const Mat want = direct_conv(h, height, width, w, b);
    for (int p = 0; p < hw; ++p)
      for (int k = 0; k < f; ++k) CHECK(cnn(p, img + batch * k) == doctest::Approx(want(p, k)).epsilon(1e-12));
  }
  // The shift with offset (0, 1) reads the right neighbour and zero at the edge.
  const Mat s = images::shift_matrix(height, width, 0, 1);
  CHECK(s(0, 1) == 1.0);
  CHECK(s.row(width - 1).isZero(0.0));
}

TEST_CASE("conv3x3 layer: finite-difference checks") {
  std::mt19937 rng(8);
  const int height = 3, width = 3, c = 2, f = 2;
  const Index batch = 2;
  const Mat a = random_mat(rng, height * width, batch * c);
  const gradcheck::Fn fn = gradcheck::reduce_to_scalar(
      [&](const std::vector<Var>& p) {
        return ad::tanh(images::conv3x3_layer(p[0], height, width, p[1], p[2], batch));
      },
      random_mat(rng, height * width, batch * f), random_mat(rng, height * width, batch * f));
  const std::vector<Mat> xs = {a, random_mat(rng, 9 * c, f), random_mat(rng, 1, f)};
  CHECK(gradcheck::check_first_order(fn, xs).ok);
  CHECK(gradcheck::check_second_order(fn, xs, gradcheck::random_like(rng, xs)).ok);
}

TEST_CASE("image models: whole-model gradient, parameter counts, storage round trip") {
  for (const std::string kind : {"lconv", "lconv-random", "cnn", "fc", "fc-shallow"}) {
    CAPTURE(kind);
    images::ImageArch arch;
    arch.kind = kind;
    arch.height = 4;
    arch.width = 3;
    arch.channels = 2;
    arch.classes = 3;
    arch.filters = 2;
    arch.generators = 2;
    arch.rank = 2;
    arch.layers = kind == "fc-shallow" ? 1 : 2;
    Rng rng(3);
    const images::ImageModel m = images::ImageModel::init(arch, rng);
    for (const auto& p : m.params) {
      const Mat back = images::from_stored(p, images::to_stored(p));
      CHECK(back == p.value);
    }
    std::mt19937 g(1);
    const Mat x = random_mat(g, 3, 24, 0, 1);
    const std::vector<int> labels = {0, 2, 1};
    check_model_gradient(m, x, labels, nullptr);
    if (kind == "lconv") {
      // 2 layers: U, V (n x HW x d_h each), W, b; then dense.
      const long hw = 12, n = 2, dh = 2, f = 2;
      const long want = 2 * (2 * n * hw * dh + (n + 1) * f * f + f) - (n + 1) * f * f + (n + 1) * 2 * f + hw * f * 3 + 3;
      CHECK(m.count() == want);
      CHECK(m.trainable_count() == m.count());
    }
    if (kind == "lconv-random") CHECK(m.trainable_count() == m.count() - 2 * 2 * 2 * 12 * 2);
    if (kind == "fc-shallow") {
      images::ImageArch like = arch;
      like.kind = "lconv";
      like.layers = 1;
      Rng r2(0);
      const long target = images::ImageModel::init(like, r2).count();
      CHECK(std::abs(m.count() - target) <= 24 + 1 + 3);  // within one hidden unit
    }
  }
}

TEST_CASE("the authors' shapes: valid-padding CNN and bottleneck FC, counts and finite differences") {
  std::mt19937 g(5);
  const Mat x = random_mat(g, 3, 20 * 2, 0, 1);  // 5x4 images, 2 channels
  const std::vector<int> labels = {0, 2, 1};
  for (const std::string kind : {"cnn", "fc"}) {
    CAPTURE(kind);
    images::ImageArch arch;
    arch.kind = kind;
    arch.height = 5;
    arch.width = 4;
    arch.channels = 2;
    arch.classes = 3;
    arch.filters = 2;
    arch.init = "glorot";
    if (kind == "cnn") arch.padding = "valid";
    else arch.bottleneck = 3;
    Rng rng(2);
    const images::ImageModel m = images::ImageModel::init(arch, rng);
    // cnn: 3x3x2x2 + 2, then the dense head on the 3x2 interior pixels x 2 filters.
    // fc: 40 -> 3 -> 20*2 -> 3.
    const long want = kind == "cnn" ? 9 * 2 * 2 + 2 + (3 * 2 * 2) * 3 + 3 : 40 * 3 + 3 + 3 * 40 + 40 + 40 * 3 + 3;
    CHECK(m.count() == want);
    check_model_gradient(m, x, labels, &g);
  }
  // A valid convolution's outputs are the same convolution's interior outputs.
  images::ImageArch same;
  same.kind = "cnn";
  same.height = 5;
  same.width = 4;
  same.channels = 2;
  same.classes = 3;
  same.filters = 2;
  images::ImageArch valid = same;
  valid.padding = "valid";
  Rng r1(4), r2(4);
  images::ImageModel ms = images::ImageModel::init(same, r1), mv = images::ImageModel::init(valid, r2);
  mv.params[0].value = ms.params[0].value;
  mv.params[1].value = ms.params[1].value;
  // The same head on the interior features, zero on the border ones.
  const std::vector<Index> keep = images::interior_pixels(5, 4);
  ms.params[2].value.setZero();
  for (std::size_t k = 0; k < keep.size(); ++k)
    ms.params[2].value.middleRows(2 * keep[k], 2) = mv.params[2].value.middleRows(2 * Index(k), 2);
  ms.params[3].value = mv.params[3].value;
  auto logits = [&](const images::ImageModel& m) {
    std::vector<Var> p;
    for (const auto& q : m.params) p.push_back(ad::constant(q.value));
    return m.forward(p, x).value();
  };
  CHECK((logits(ms) - logits(mv)).norm() < 1e-12);
}

TEST_CASE("initialisation: the authors' Glorot scales start L-conv near a 1x1 map, He near |L h| = |h|") {
  images::ImageArch arch;
  arch.kind = "lconv";
  arch.height = arch.width = 28;
  arch.classes = 10;
  std::mt19937 g(3);
  const Mat h = random_mat(g, 784, 20);  // 20 images as columns
  for (const std::string init : {"glorot", "he"}) {
    CAPTURE(init);
    arch.init = init;
    Rng rng(7);
    const images::ImageModel m = images::ImageModel::init(arch, rng);
    const Mat& u = m.params[0].value;  // HW x n*d_h
    const Mat& v = m.params[1].value;  // n*d_h x HW
    double ratio = 0;
    for (int i = 0; i < 8; ++i) ratio += (u.middleCols(8 * i, 8) * (v.middleRows(8 * i, 8) * h)).norm() / h.norm() / 8;
    // Glorot: std sqrt(2 / (n (HW + d_h))) = 0.0178 on U and V, |L_i h| / |h| ~ 0.0178^2 sqrt(HW d_h) = 0.025.
    if (init == "glorot") {
      CHECK(ratio == doctest::Approx(0.0251).epsilon(0.15));
      double sq = 0;
      for (Index k = 0; k < u.size(); ++k) sq += u.data()[k] * u.data()[k];
      CHECK(std::sqrt(sq / double(u.size())) == doctest::Approx(0.0178).epsilon(0.02));
      CHECK(u.cwiseAbs().maxCoeff() <= 2 * 0.0178 / 0.8796 + 1e-12);  // truncated at 2 std
      const Mat& w = m.params[2].value;  // (n+1) C x F: std sqrt(2 / (9 (1 + 32))) = 0.082
      CHECK(std::sqrt(w.squaredNorm() / double(w.size())) == doctest::Approx(0.082).epsilon(0.1));
    } else {
      CHECK(ratio == doctest::Approx(1.0).epsilon(0.15));
    }
  }
}

TEST_CASE("supervised training: learns a separable problem; a resumed run is bit-identical") {
  // Two classes: bright left half vs bright right half, 4x4 images.
  tasks::ImageSplit d;
  d.height = 4;
  d.width = 4;
  d.channels = 1;
  d.classes = 2;
  const long n = 64;
  d.x = Mat::Zero(n, 16);
  Rng rng(2);
  for (long i = 0; i < n; ++i) {
    const int y = static_cast<int>(i % 2);
    d.labels.push_back(y);
    for (int p = 0; p < 16; ++p) d.x(i, p) = 0.2 * rng.uniform() + (((p % 4) < 2) == (y == 0) ? 0.8 : 0.0);
  }
  images::ImageArch arch;
  arch.kind = "lconv";
  arch.height = arch.width = 4;
  arch.classes = 2;
  arch.filters = 4;
  arch.generators = 2;
  arch.rank = 2;
  images::SupervisedState a;
  Rng init(0);
  a.model = images::ImageModel::init(arch, init);
  a.options.epochs = 6;
  a.options.batch = 8;
  a.options.lr = 1e-2;
  images::SupervisedState b = a;
  REQUIRE(images::train_classifier(a, d, {}) == images::SupervisedStatus::done);
  CHECK(images::evaluate_classifier(a.model, d).accuracy == 1.0);
  CHECK(a.log.epoch_loss.back() < a.log.epoch_loss.front());
  // Stop b after 11 batches (mid-epoch), copy its state as a checkpoint would, continue.
  std::atomic<bool> stop{false};
  images::SupervisedHooks h;
  h.stop = &stop;
  h.on_batch = [&](const images::SupervisedState& s, long) {
    if (s.log.step_loss.size() == 11) stop.store(true);
  };
  REQUIRE(images::train_classifier(b, d, h) == images::SupervisedStatus::interrupted);
  CHECK(b.epoch == 1);
  CHECK(b.batch == 3);
  images::SupervisedState c = b;
  REQUIRE(images::train_classifier(c, d, {}) == images::SupervisedStatus::done);
  for (std::size_t k = 0; k < a.model.params.size(); ++k) CHECK(c.model.params[k].value == a.model.params[k].value);
  CHECK(c.log.step_loss == a.log.step_loss);
  // Frozen generators stay put.
  arch.kind = "lconv-random";
  images::SupervisedState r;
  Rng init2(0);
  r.model = images::ImageModel::init(arch, init2);
  r.options = a.options;
  r.options.epochs = 1;
  const Mat u0 = r.model.params[0].value, w0 = r.model.params[2].value;
  images::train_classifier(r, d, {});
  CHECK(r.model.params[0].value == u0);
  CHECK(r.model.params[2].value != w0);
}

TEST_CASE("image training: the batch slices sum to the whole batch's gradient, for any thread count") {
  // 10 random 4x4 images of 3 classes; one Adam step on 9 of them, sliced,
  // against the whole batch's autodiff gradient and the same Adam step.
  tasks::ImageSplit d;
  d.height = d.width = 4;
  d.channels = 1;
  d.classes = 3;
  std::mt19937 gen(5);
  d.x = random_mat(gen, 10, 16);
  for (int i = 0; i < 10; ++i) d.labels.push_back(i % 3);
  for (const char* kind : {"lconv", "cnn", "fc-shallow"}) {
    CAPTURE(kind);
    images::ImageArch arch;
    arch.kind = kind;
    arch.height = arch.width = 4;
    arch.classes = 3;
    arch.filters = 3;
    arch.generators = 2;
    arch.rank = 2;
    images::SupervisedState one;
    one.options.precision = learn::Precision::float64;  // compared with lib/ad below
    Rng init(1);
    one.model = images::ImageModel::init(arch, init);
    images::SupervisedState two = one;
    const std::vector<long> rows = {3, 1, 4, 9, 5, 2, 6, 8, 7};  // odd: unequal slices
    double c1 = 0, c2 = 0;
    const double l1 = images::train_step(one, d, rows, &c1, 1);
    const double l2 = images::train_step(two, d, rows, &c2, 2);
    CHECK(l1 == l2);
    CHECK(c1 == c2);
    for (std::size_t k = 0; k < one.model.params.size(); ++k) CHECK(one.model.params[k].value == two.model.params[k].value);

    // The whole batch at once, by the plain autodiff, and Adam's first step.
    images::SupervisedState ref;
    Rng init2(1);
    ref.model = images::ImageModel::init(arch, init2);
    Mat xb(Index(rows.size()), 16);
    std::vector<int> yb;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      xb.row(Index(i)) = d.x.row(rows[i]);
      yb.push_back(d.labels[std::size_t(rows[i])]);
    }
    std::vector<Var> vars, trainable;
    std::vector<Mat*> targets;
    for (auto& p : ref.model.params) {
      vars.push_back(p.trainable ? ad::param(p.value) : ad::constant(p.value));
      if (p.trainable) {
        trainable.push_back(vars.back());
        targets.push_back(&p.value);
      }
    }
    const Var loss = ad::softmax_cross_entropy(ref.model.forward(vars, xb), yb);
    CHECK(loss.item() == doctest::Approx(l1).epsilon(1e-12));
    std::vector<Mat> grads;
    for (const auto& g : ad::grad(loss, trainable)) grads.push_back(g.value());
    ref.opt.lr = one.options.lr;
    ref.opt.update(targets, grads);
    for (std::size_t k = 0; k < one.model.params.size(); ++k)
      CHECK((one.model.params[k].value - ref.model.params[k].value).cwiseAbs().maxCoeff() < 1e-9);
  }
}

TEST_CASE("backprop: the hand-written passes compute lib/ad's loss and gradient, in double and in float") {
  std::mt19937 gen(11);
  struct Case {
    const char* kind;
    int layers, channels;
    const char* padding = "same";
    int bottleneck = 0;
  };
  for (const Case& c : {Case{"lconv", 1, 1}, Case{"lconv", 2, 2}, Case{"lconv-random", 2, 1}, Case{"cnn", 1, 2},
                        Case{"cnn", 2, 1}, Case{"fc", 1, 1}, Case{"fc", 2, 2}, Case{"fc-shallow", 1, 1},
                        Case{"cnn", 1, 2, "valid"}, Case{"fc", 1, 2, "same", 3}}) {
    CAPTURE(c.kind);
    CAPTURE(c.layers);
    CAPTURE(c.channels);
    CAPTURE(c.padding);
    CAPTURE(c.bottleneck);
    images::ImageArch arch;
    arch.kind = c.kind;
    arch.padding = c.padding;
    arch.bottleneck = c.bottleneck;
    arch.height = 3;
    arch.width = 4;
    arch.channels = c.channels;
    arch.classes = 3;
    arch.layers = c.layers;
    arch.filters = 3;
    arch.generators = 2;
    arch.rank = 2;
    Rng init(3);
    images::ImageModel model = images::ImageModel::init(arch, init);
    // Non-zero biases so that every bias gradient path is exercised.
    for (auto& p : model.params)
      if (p.name.back() == 'b') p.value = random_mat(gen, p.value.rows(), p.value.cols());
    const Index rows = 5;
    const Mat x = random_mat(gen, rows, Index(arch.pixels()) * arch.channels);
    const std::vector<int> labels = {0, 2, 1, 1, 0};
    const double weight = 0.7;

    std::vector<Var> vars, trainable;
    for (const auto& p : model.params) {
      vars.push_back(p.trainable ? ad::param(p.value) : ad::constant(p.value));
      if (p.trainable) trainable.push_back(vars.back());
    }
    const Var logits = model.forward(vars, x);
    const Var loss = ad::scale(ad::softmax_cross_entropy(logits, labels), weight);
    std::vector<Mat> ref;
    for (const auto& g : ad::grad(loss, trainable)) ref.push_back(g.value());

    // Both association orders of L-conv's sum (per generator, grouped).
    for (const images::LconvOrder order : {images::LconvOrder::per_generator, images::LconvOrder::grouped}) {
      CAPTURE(static_cast<int>(order));
      images::Weights<double> wd(model);
      wd.lconv_order = order;
      const images::SliceResult<double> d = images::backprop_slice<double>(wd, x, labels, weight);
      CHECK(d.loss == doctest::Approx(loss.item()).epsilon(1e-12));
      CHECK((images::forward_logits<double>(wd, x) - logits.value()).norm() <= 1e-12 * (1 + logits.value().norm()));
      REQUIRE(d.grads.size() == ref.size());
      for (std::size_t k = 0; k < ref.size(); ++k) {
        CAPTURE(k);
        REQUIRE(d.grads[k].rows() == ref[k].rows());
        REQUIRE(d.grads[k].cols() == ref[k].cols());
        CHECK((d.grads[k] - ref[k]).norm() <= 1e-10 * (1 + ref[k].norm()));
      }
      long correct = 0;
      for (Index i = 0; i < rows; ++i) {
        Index best;
        logits.value().row(i).maxCoeff(&best);
        correct += best == labels[std::size_t(i)];
      }
      CHECK(d.correct == correct);

      // float32: the same to float rounding (relative 1e-4 on these sizes).
      images::Weights<float> wf(model);
      wf.lconv_order = order;
      const images::SliceResult<float> f = images::backprop_slice<float>(wf, x.cast<float>(), labels, weight);
      CHECK(f.loss == doctest::Approx(d.loss).epsilon(1e-5));
      for (std::size_t k = 0; k < ref.size(); ++k) {
        CAPTURE(k);
        CHECK((f.grads[k].cast<double>() - ref[k]).norm() <= 1e-4 * (1e-3 + ref[k].norm()));
      }
    }
  }
}

TEST_CASE("backprop: L-conv sums per generator for one input channel, grouped for many") {
  images::ImageArch arch;  // the defaults: 28 x 28, 8 generators of rank 8, 32 filters
  arch.kind = "lconv";
  arch.height = arch.width = 28;
  CHECK_FALSE(images::lconv_grouped(arch, 1, images::LconvOrder::automatic));
  CHECK(images::lconv_grouped(arch, 32, images::LconvOrder::automatic));
  CHECK(images::lconv_grouped(arch, 1, images::LconvOrder::grouped));
  CHECK_FALSE(images::lconv_grouped(arch, 32, images::LconvOrder::per_generator));
}
