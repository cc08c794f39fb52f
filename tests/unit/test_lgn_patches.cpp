// The lgn-patches tasks (Theodosis, Helwani, Ba 2023, section 5.2): the patch
// rotation and box-mean matrices, the named transforms, the file (y = T x with
// T stored) and its loaders, and patches cut from whitened images.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "io/h5.hpp"
#include "tasks/images.hpp"
#include "tasks/lgn_patches.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

using namespace symlearn;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// Every entry 0 or 1, at most one 1 per row.
bool is_partial_selection(const MatrixXd& m) {
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    int ones = 0;
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      if (m(r, c) == 1) ++ones;
      else if (m(r, c) != 0) return false;
    }
    if (ones > 1) return false;
  }
  return true;
}

bool is_permutation(const MatrixXd& m) {
  return is_partial_selection(m) && is_partial_selection(m.transpose()) && m.sum() == double(m.rows());
}

tasks::PatchPairs write_and_load(const testutil::TempDir& dir, const tasks::LgnPatchesSpec& s, const std::string& name,
                                 const std::string& split, MatrixXd* truth = nullptr) {
  {
    io::Writer w(dir.file(name), "tasks", "test", s.config());
    tasks::write_lgn_patches(s, w);
    w.commit();
  }
  io::Reader f(dir.file(name), "tasks");
  if (truth) *truth = tasks::load_true_operator(f);
  return tasks::load_patch_pairs(f, split);
}

}  // namespace

TEST_CASE("patch rotation: rot90 is the quarter turn counter-clockwise, a permutation of order 4") {
  for (int p : {6, 5}) {
    CAPTURE(p);
    const int d = p * p;
    const MatrixXd q = tasks::patch_rotation(p, 90);
    CHECK(is_permutation(q));
    CHECK(q == tasks::patch_transform(p, "rot90"));
    // An asymmetric patch (all pixels different), turned by hand: the output's
    // pixel (r, c) is the input's (c, p-1-r), so the top-right corner goes to
    // the top-left one.
    VectorXd x(d);
    for (int k = 0; k < d; ++k) x(k) = k;
    const VectorXd y = q * x;
    for (int r = 0; r < p; ++r)
      for (int c = 0; c < p; ++c) CHECK(y(r * p + c) == x(c * p + (p - 1 - r)));
    CHECK(y(0) == x(p - 1));
    CHECK((q * q * q * q - MatrixXd::Identity(d, d)).norm() == 0);
    CHECK((q * q - MatrixXd::Identity(d, d)).norm() > 0);
    CHECK(tasks::patch_rotation(p, 0) == MatrixXd::Identity(d, d));
    CHECK(tasks::patch_rotation(p, 360) == MatrixXd::Identity(d, d));
    CHECK(tasks::patch_rotation(p, -90) == q.transpose());  // the inverse turn
  }
}

TEST_CASE("patch rotation: rot30/45/60 select at most one pixel per output pixel, corners fall outside") {
  for (const char* name : {"rot30", "rot45", "rot60"}) {
    CAPTURE(name);
    const MatrixXd r = tasks::patch_transform(6, name);
    CHECK(is_partial_selection(r));
    CHECK(r.sum() > 20);  // most pixels come from inside the patch
    CHECK(r.sum() < 36);  // ...but turned corners leave some empty (fill 0)
  }
  // 45 degrees on 6x6: the corners' source points are 2.5 sqrt(2) ~ 3.54 px
  // from the centre along an axis, outside; the centre ring stays inside.
  const MatrixXd r45 = tasks::patch_rotation(6, 45);
  CHECK(r45.row(0).sum() == 0);
  CHECK(r45.row(2 * 6 + 2).sum() == 1);
  CHECK_THROWS_AS(tasks::patch_rotation(0, 30), InputError);
  CHECK_THROWS_AS(tasks::patch_rotation(6, std::nan("")), InputError);
}

TEST_CASE("patch box mean: rows sum to 1, constants kept, reflect padding at the corners") {
  for (int k : {3, 4, 5, 6}) {
    CAPTURE(k);
    const MatrixXd b = tasks::patch_box_mean(6, k);
    CHECK((b.rowwise().sum().array() - 1).abs().maxCoeff() < 1e-14);
    CHECK(b.minCoeff() >= 0);
    CHECK(b == tasks::patch_transform(6, "box" + std::to_string(k)));
  }
  const MatrixXd b3 = tasks::patch_box_mean(6, 3);
  const VectorXd c = VectorXd::Constant(36, 2.5);
  CHECK((b3 * c - c).cwiseAbs().maxCoeff() < 1e-14);
  // Top-left corner, 3x3, padding 1 by reflection: rows/cols -1, 0, 1 read
  // 1, 0, 1, so pixel (0, 0) weighs 1/9, (0, 1) and (1, 0) 2/9, (1, 1) 4/9.
  CHECK(b3(0, 0) == doctest::Approx(1.0 / 9));
  CHECK(b3(0, 1) == doctest::Approx(2.0 / 9));
  CHECK(b3(0, 6) == doctest::Approx(2.0 / 9));
  CHECK(b3(0, 7) == doctest::Approx(4.0 / 9));
  CHECK(b3.row(0).sum() == doctest::Approx(1.0));
  // Bottom-right corner, 4x4: padding 1 before, 2 after; rows 4, 5, 6, 7 read
  // 4, 5, 4, 3, so pixel (4, 4) weighs (2/4)^2 and (5, 5) (1/4)^2.
  const MatrixXd b4 = tasks::patch_box_mean(6, 4);
  CHECK(b4(35, 4 * 6 + 4) == doctest::Approx(0.25));
  CHECK(b4(35, 5 * 6 + 5) == doctest::Approx(1.0 / 16));
  CHECK(b4(35, 3 * 6 + 3) == doctest::Approx(1.0 / 16));
  // An interior pixel of box3 is a plain 3x3 mean.
  CHECK(b3(2 * 6 + 2, 1 * 6 + 3) == doctest::Approx(1.0 / 9));
  // The padding after must be shorter than the patch: box6 needs p >= 4.
  CHECK_NOTHROW(tasks::patch_box_mean(4, 6));
  CHECK_THROWS_AS(tasks::patch_box_mean(3, 6), InputError);
  CHECK_THROWS_AS(tasks::patch_box_mean(6, 0), InputError);
}

TEST_CASE("patch transforms: the 11 names, pool first then rotate, unknown names refused") {
  const std::vector<std::string> want = {"rot30", "rot45", "rot60", "rot90", "box3", "box4",
                                         "box5", "box6", "rot60-box4", "rot60-box5", "rot60-box6"};
  CHECK(tasks::patch_transform_names() == want);
  CHECK((tasks::patch_transform(6, "rot60-box4") - tasks::patch_rotation(6, 60) * tasks::patch_box_mean(6, 4)).norm() == 0);
  CHECK((tasks::patch_transform(6, "rot60-box6") - tasks::patch_rotation(6, 60) * tasks::patch_box_mean(6, 6)).norm() == 0);
  // The order matters: B R differs from R B.
  CHECK((tasks::patch_transform(6, "rot60-box4") - tasks::patch_box_mean(6, 4) * tasks::patch_rotation(6, 60)).norm() > 0.1);
  CHECK_THROWS_AS(tasks::patch_transform(6, "rot15"), InputError);
  CHECK_THROWS_AS(tasks::patch_transform(6, ""), InputError);
}

TEST_CASE("lgn-patches file (gaussian): y = T x, the truth stored, attributes, wrong files refused") {
  testutil::TempDir dir;
  tasks::LgnPatchesSpec s;
  s.transform = "rot60-box5";
  s.train = 40;
  s.test = 9;
  s.seed = 3;
  MatrixXd t;
  const tasks::PatchPairs tr = write_and_load(dir, s, "g.h5", "/train", &t);
  CHECK(tr.patch == 6);
  CHECK(tr.transform == "rot60-box5");
  CHECK(tr.x.rows() == 36);
  CHECK(tr.x.cols() == 40);
  CHECK(tr.y.cols() == 40);
  CHECK(t == tasks::patch_transform(6, "rot60-box5"));
  CHECK((tr.y - t * tr.x).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(std::abs(tr.x.mean()) < 0.2);  // N(0, 1) pixels
  CHECK(std::abs(std::sqrt(tr.x.squaredNorm() / double(tr.x.size())) - 1) < 0.1);
  {
    io::Reader f(dir.file("g.h5"), "tasks");
    const tasks::PatchPairs te = tasks::load_patch_pairs(f, "/test");
    CHECK(te.x.cols() == 9);
    CHECK((te.y - t * te.x).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(f.attr_string("/", "kind") == "lgn-patches");
    CHECK(f.attr_string("/", "transform") == "rot60-box5");
    CHECK(f.attr_string("/", "source") == "gaussian");
    CHECK(f.attr_int("/", "patch") == 6);
    CHECK(f.attr_int("/", "dim") == 36);
    CHECK(f.attr_int("/", "whitened") == 0);  // noise is never whitened
    CHECK(f.shape("/train/x") == io::Shape{1, 40, 36});
    CHECK(f.shape("/truth/operator") == io::Shape{36, 36});
    CHECK_THROWS_AS(tasks::load_patch_pairs(f, "/val"), InputError);
  }
  // The same seed gives the same pairs; another seed others.
  const tasks::PatchPairs again = write_and_load(dir, s, "g2.h5", "/train");
  CHECK(again.x == tr.x);
  s.seed = 4;
  CHECK(write_and_load(dir, s, "g3.h5", "/train").x != tr.x);
  // Another patch size: rot90 on 7x7 stays a permutation of the pixels.
  s.patch = 7;
  s.transform = "rot90";
  const tasks::PatchPairs seven = write_and_load(dir, s, "g7.h5", "/train", &t);
  CHECK(seven.x.rows() == 49);
  CHECK(is_permutation(t));
  CHECK((seven.y - t * seven.x).cwiseAbs().maxCoeff() < 1e-12);

  // A file of another kind, and one without the truth.
  {
    io::Writer w(dir.file("other.h5"), "tasks", "test", nlohmann::json::object());
    w.attr("/", "kind", std::string("generator-pairs"));
    w.attr("/", "dim", std::int64_t(36));
    w.commit();
  }
  io::Reader other(dir.file("other.h5"), "tasks");
  CHECK_THROWS_AS(tasks::load_patch_pairs(other, "/train"), InputError);
  try {
    tasks::load_true_operator(other);
    FAIL("no InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("other.h5") != std::string::npos);
    CHECK(std::string(e.what()).find("/truth/operator") != std::string::npos);
  }
  {
    // Right kind and attributes, wrong dim.
    io::Writer w(dir.file("bad.h5"), "tasks", "test", nlohmann::json::object());
    w.attr("/", "kind", std::string("lgn-patches"));
    w.attr("/", "transform", std::string("rot90"));
    w.attr("/", "patch", std::int64_t(6));
    w.attr("/", "dim", std::int64_t(35));
    w.commit();
  }
  io::Reader bad(dir.file("bad.h5"), "tasks");
  CHECK_THROWS_AS(tasks::load_patch_pairs(bad, "/train"), InputError);
}

TEST_CASE("lgn-patches spec: validate() refuses nonsense") {
  const tasks::LgnPatchesSpec ok;
  CHECK_NOTHROW(ok.validate());
  auto refuses = [&](auto change) {
    tasks::LgnPatchesSpec s = ok;
    change(s);
    CHECK_THROWS_AS(s.validate(), InputError);
  };
  refuses([](tasks::LgnPatchesSpec& s) { s.transform = "rot15"; });
  refuses([](tasks::LgnPatchesSpec& s) { s.source = "mnist"; });
  refuses([](tasks::LgnPatchesSpec& s) { s.patch = 1; });
  refuses([](tasks::LgnPatchesSpec& s) { s.patch = 17; });
  refuses([](tasks::LgnPatchesSpec& s) { s.train = 0; });
  refuses([](tasks::LgnPatchesSpec& s) { s.test = -3; });
  refuses([](tasks::LgnPatchesSpec& s) { s.train = 10'000'001; });
  refuses([](tasks::LgnPatchesSpec& s) { s.whiten_epsilon = -1e-3; });
  refuses([](tasks::LgnPatchesSpec& s) { s.whiten_epsilon = std::nan(""); });
  refuses([](tasks::LgnPatchesSpec& s) {
    s.transform = "box6";
    s.patch = 3;  // reflect padding 3 is not shorter than the patch
  });
  refuses([](tasks::LgnPatchesSpec& s) {
    s.patch = 16;
    s.train = 2'000'000;  // 2e6 x 256 numbers
  });
  refuses([](tasks::LgnPatchesSpec& s) {
    s.source = "builtin";
    s.train = s.test = 1'000'000;  // 2e6 glyphs of 16 x 16 held in memory
  });
  tasks::LgnPatchesSpec fits = ok;
  fits.transform = "box6";
  fits.patch = 4;
  CHECK_NOTHROW(fits.validate());
  fits.source = "idx:a,b";
  CHECK_NOTHROW(fits.validate());
}

TEST_CASE("lgn-patches from builtin glyphs: patches of the ZCA-whitened images, or of the raw ones") {
  testutil::TempDir dir;
  tasks::LgnPatchesSpec s;
  s.source = "builtin";
  s.transform = "rot45";
  s.train = 300;
  s.test = 20;
  s.seed = 5;
  const int p = 6, side = 16, hw = side * side;
  const tasks::ImageSet glyphs = tasks::make_glyphs(s.train, side, s.seed, 0);
  // Every patch position of image i, as a d x positions matrix of its pixels in `img` (hw values).
  auto windows = [&](const VectorXd& img) {
    MatrixXd w(p * p, (side - p + 1) * (side - p + 1));
    int at = 0;
    for (int r0 = 0; r0 + p <= side; ++r0)
      for (int c0 = 0; c0 + p <= side; ++c0, ++at)
        for (int a = 0; a < p; ++a)
          for (int b = 0; b < p; ++b) w(a * p + b, at) = img((r0 + a) * side + c0 + b);
    return w;
  };
  auto image = [&](long i) {
    VectorXd v(hw);
    for (int k = 0; k < hw; ++k) v(k) = glyphs.image(i)[k];
    return v;
  };
  // Distance from column x to the nearest window of img.
  auto nearest_window = [&](const VectorXd& x, const VectorXd& img) {
    return (windows(img).colwise() - x).colwise().norm().minCoeff();
  };

  SUBCASE("raw pixels") {
    s.whiten = false;
    io::Writer w(dir.file("raw.h5"), "tasks", "test", s.config());
    tasks::write_lgn_patches(s, w);
    w.commit();
    io::Reader f(dir.file("raw.h5"), "tasks");
    CHECK(f.attr_int("/", "whitened") == 0);
    const tasks::PatchPairs tr = tasks::load_patch_pairs(f, "/train");
    CHECK((tr.y - tasks::load_true_operator(f) * tr.x).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(tr.x.minCoeff() >= 0);
    CHECK(tr.x.maxCoeff() <= 1);
    for (long i : {0L, 1L, 123L, 299L}) CHECK(nearest_window(tr.x.col(i), image(i)) < 1e-6);  // float pixels
    CHECK(nearest_window(tr.x.col(0), image(1)) > 1e-3);  // another image's patch is not it
  }
  SUBCASE("whitened: W (z - m) with W = U diag(1/sqrt(s + eps mean(s))) U^T") {
    io::Writer w(dir.file("white.h5"), "tasks", "test", s.config());
    tasks::write_lgn_patches(s, w);
    w.commit();
    io::Reader f(dir.file("white.h5"), "tasks");
    CHECK(f.attr_int("/", "whitened") == 1);
    const tasks::PatchPairs tr = tasks::load_patch_pairs(f, "/train");
    const MatrixXd t = tasks::load_true_operator(f);
    CHECK((tr.y - t * tr.x).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((tasks::load_patch_pairs(f, "/test").y - t * tasks::load_patch_pairs(f, "/test").x).cwiseAbs().maxCoeff() < 1e-12);
    // The same whitening computed here, independently.
    MatrixXd all(hw, s.train);
    for (long i = 0; i < s.train; ++i) all.col(i) = image(i);
    const double mean = all.mean(), sd = std::sqrt((all.array() - mean).square().mean());
    const MatrixXd z = (all.array() - mean) / sd;
    const VectorXd m = z.rowwise().mean();
    const MatrixXd zc = z.colwise() - m;
    const MatrixXd cov = zc * zc.transpose() / double(s.train);
    Eigen::SelfAdjointEigenSolver<MatrixXd> eig(cov);
    const VectorXd ev = eig.eigenvalues().cwiseMax(0.0);
    const VectorXd scale = (ev.array() + s.whiten_epsilon * ev.mean()).rsqrt();
    const MatrixXd white = eig.eigenvectors() * scale.asDiagonal() * eig.eigenvectors().transpose();
    for (long i : {0L, 7L, 299L}) {
      CAPTURE(i);
      const VectorXd wi = white * zc.col(i);
      CHECK(nearest_window(tr.x.col(i), wi) < 1e-8);
    }
    // Whitened pixels are decorrelated: the whitened images' covariance is
    // s / (s + eps mean(s)) in the eigenbasis, at most 1.
    const MatrixXd wz = white * zc;
    const Eigen::SelfAdjointEigenSolver<MatrixXd> after(wz * wz.transpose() / double(s.train));
    CHECK(after.eigenvalues().maxCoeff() < 1 + 1e-9);
  }
}

TEST_CASE("lgn-patches from whitened Fashion-MNIST patches: y = T x") {
  const std::string dir_fm = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
  if (!std::ifstream(dir_fm).good()) {
    MESSAGE("skipped: /usr/share/datasets/fashion-mnist is not installed");
    return;
  }
  testutil::TempDir dir;
  tasks::LgnPatchesSpec s;
  s.source = "fashion-mnist";
  s.transform = "rot60-box4";
  s.train = 200;
  s.test = 50;
  s.seed = 2;
  MatrixXd t;
  const tasks::PatchPairs tr = write_and_load(dir, s, "fm.h5", "/train", &t);
  CHECK(tr.x.cols() == 200);
  CHECK(t == tasks::patch_transform(6, "rot60-box4"));
  CHECK((tr.y - t * tr.x).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(tr.x.minCoeff() < 0);  // whitened, not pixels in [0, 1]
  // Whitened with the covariance of all 60000 training images: patch pixels
  // have a variance of order 1 (below 1: epsilon shrinks the small directions).
  const double var = (tr.x.array() - tr.x.mean()).square().mean();
  CHECK(var > 0.05);
  CHECK(var < 1.5);
  io::Reader f(dir.file("fm.h5"), "tasks");
  CHECK(f.attr_int("/", "whitened") == 1);
  CHECK(f.attr_string("/", "source") == "fashion-mnist");
  const tasks::PatchPairs te = tasks::load_patch_pairs(f, "/test");
  CHECK(te.x.cols() == 50);
  CHECK((te.y - t * te.x).cwiseAbs().maxCoeff() < 1e-12);
  // More images than the test split holds.
  s.test = 10001;
  io::Writer w(dir.file("too-many.h5"), "tasks", "test", s.config());
  CHECK_THROWS_AS(tasks::write_lgn_patches(s, w), InputError);
}
