// Image data for L-conv: rotation, scrambling, IDX files, the builtin glyphs
// and the rotated-scrambled tasks file.
#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include "io/h5.hpp"
#include "tasks/images.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

using namespace symlearn;

namespace {
std::vector<float> random_image(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.uniform());
  return v;
}
}  // namespace

TEST_CASE("rotation: four quarter turns return the image; a half turn flips both axes") {
  for (int side : {7, 8}) {
    CAPTURE(side);
    const std::vector<float> img = random_image(side * side * 2, 4);
    std::vector<float> r = img;
    for (int k = 0; k < 4; ++k) r = tasks::rotate_image(r.data(), side, side, 2, 90.0);
    const std::vector<float> half = tasks::rotate_image(img.data(), side, side, 2, 180.0);
    const std::vector<float> quarter = tasks::rotate_image(img.data(), side, side, 2, 90.0);
    double max_err = 0, half_err = 0;
    for (int y = 1; y < side - 1; ++y)
      for (int x = 1; x < side - 1; ++x)
        for (int c = 0; c < 2; ++c) {
          const std::size_t at = (std::size_t(y) * side + x) * 2 + c;
          max_err = std::max(max_err, double(std::abs(r[at] - img[at])));
          const std::size_t flip = (std::size_t(side - 1 - y) * side + (side - 1 - x)) * 2 + c;
          half_err = std::max(half_err, double(std::abs(half[at] - img[flip])));
        }
    CHECK(max_err < 1e-5);
    CHECK(half_err < 1e-5);
    // A quarter turn is not the identity (the check above can fail).
    double moved = 0;
    for (std::size_t k = 0; k < img.size(); ++k) moved = std::max(moved, double(std::abs(quarter[k] - img[k])));
    CHECK(moved > 0.1);
  }
  // Counter-clockwise as displayed: the pixel right of the centre goes above it.
  std::vector<float> dot(9, 0.0f);
  dot[1 * 3 + 2] = 1.0f;
  const std::vector<float> r = tasks::rotate_image(dot.data(), 3, 3, 1, 90.0);
  CHECK(r[0 * 3 + 1] == doctest::Approx(1.0));
  // A turn by 0 is the identity; by 45 degrees the border is extended, values stay in range.
  const std::vector<float> img = random_image(64, 9);
  CHECK(tasks::rotate_image(img.data(), 8, 8, 1, 0.0) == img);
  const std::vector<float> t = tasks::rotate_image(img.data(), 8, 8, 1, 45.0);
  CHECK(*std::min_element(t.begin(), t.end()) >= 0.0f);
  CHECK(*std::max_element(t.begin(), t.end()) <= 1.0f);
}

TEST_CASE("cubic rotation: exact at 0 and 90 degrees, constants kept, smooth images close to bilinear") {
  using tasks::Interpolation;
  const std::vector<float> img = random_image(9 * 9 * 2, 5);
  const std::vector<float> same = tasks::rotate_image(img.data(), 9, 9, 2, 0.0, Interpolation::cubic);
  double err0 = 0;
  for (std::size_t k = 0; k < img.size(); ++k) err0 = std::max(err0, double(std::abs(same[k] - img[k])));
  CHECK(err0 < 1e-5);  // the spline interpolates its samples
  // A quarter turn lands on grid points: every pixel is an exact sample.
  const std::vector<float> q = tasks::rotate_image(img.data(), 9, 9, 2, 90.0, Interpolation::cubic);
  const std::vector<float> qb = tasks::rotate_image(img.data(), 9, 9, 2, 90.0, Interpolation::bilinear);
  double errq = 0;
  for (std::size_t k = 0; k < img.size(); ++k) errq = std::max(errq, double(std::abs(q[k] - qb[k])));
  CHECK(errq < 1e-5);
  const std::vector<float> flat(64, 0.3f);
  for (float v : tasks::rotate_image(flat.data(), 8, 8, 1, 33.0, Interpolation::cubic)) CHECK(v == doctest::Approx(0.3));
  // A smooth bump turned by 30 degrees: cubic is nearer the exact turned bump than bilinear.
  const int n = 21;
  auto bump = [&](double degrees) {
    std::vector<float> b(std::size_t(n) * n);
    const double t = degrees * 3.14159265358979 / 180, c = (n - 1) / 2.0;
    for (int r = 0; r < n; ++r)
      for (int col = 0; col < n; ++col) {
        // The exact image turned: sample the bump at the pre-image of (r, col).
        const double dx = col - c, dy = r - c;
        const double sx = std::cos(t) * dx - std::sin(t) * dy, sy = std::sin(t) * dx + std::cos(t) * dy;
        b[std::size_t(r) * n + col] = static_cast<float>(std::exp(-((sx - 3) * (sx - 3) + sy * sy) / 8));
      }
    return b;
  };
  const std::vector<float> b0 = bump(0), want = bump(30);
  double ec = 0, el = 0;
  const std::vector<float> rc = tasks::rotate_image(b0.data(), n, n, 1, 30.0, Interpolation::cubic);
  const std::vector<float> rl = tasks::rotate_image(b0.data(), n, n, 1, 30.0, Interpolation::bilinear);
  for (std::size_t k = 0; k < want.size(); ++k) {
    ec = std::max(ec, double(std::abs(rc[k] - want[k])));
    el = std::max(el, double(std::abs(rl[k] - want[k])));
  }
  CHECK(ec < 0.5 * el);
  CHECK(ec < 0.01);
}

TEST_CASE("scrambling: a bijection of pixel positions, channels kept together") {
  Rng rng(7);
  const std::vector<std::int64_t> p = tasks::random_permutation(50, rng);
  std::set<std::int64_t> seen(p.begin(), p.end());
  CHECK(seen.size() == 50);
  CHECK(*seen.begin() == 0);
  CHECK(*seen.rbegin() == 49);
  bool identity = true;
  for (int k = 0; k < 50; ++k) identity = identity && p[k] == k;
  CHECK_FALSE(identity);
  std::vector<float> img(100);
  for (int k = 0; k < 100; ++k) img[k] = float(k);
  const std::vector<float> s = tasks::permute_pixels(img.data(), 50, 2, p);
  for (int k = 0; k < 50; ++k) {
    CHECK(s[2 * k] == img[2 * p[k]]);
    CHECK(s[2 * k + 1] == img[2 * p[k] + 1]);
  }
}

TEST_CASE("rotated-scrambled file: one permutation for every image, labels untouched, angles in range") {
  testutil::TempDir dir;
  const std::string plain = dir.file("plain.h5"), rs = dir.file("rs.h5");
  tasks::RotatedScrambledSpec spec;
  spec.train = 30;
  spec.test = 10;
  spec.size = 8;
  spec.seed = 3;
  {
    io::Writer w(plain, "tasks", "test", spec.config());
    tasks::write_rotated_scrambled(spec, w);
    w.commit();
  }
  spec.rotate = spec.scramble = true;
  {
    io::Writer w(rs, "tasks", "test", spec.config());
    tasks::write_rotated_scrambled(spec, w);
    w.commit();
  }
  io::Reader a(plain, "tasks"), b(rs, "tasks");
  const tasks::ImageSplit pa = tasks::load_image_split(a, "/train"), pb = tasks::load_image_split(b, "/train");
  CHECK(pa.labels == pb.labels);
  const io::Array angles = b.read("/truth/train_angle", {30});
  const std::vector<std::int64_t> perm = b.read_ints("/truth/permutation");
  REQUIRE(perm.size() == 64);
  CHECK(std::set<std::int64_t>(perm.begin(), perm.end()).size() == 64);
  // Undo: stored pixel k is rotated pixel perm[k]; rotating the plain image by
  // the stored angle gives the same image, for every image (one permutation).
  for (long i = 0; i < 30; ++i) {
    CHECK(angles.data[i] >= -90.0);
    CHECK(angles.data[i] < 90.0);
    std::vector<float> img(64);
    for (int k = 0; k < 64; ++k) img[k] = static_cast<float>(pa.x(i, k));
    const std::vector<float> rot = tasks::rotate_image(img.data(), 8, 8, 1, angles.data[i]);
    for (int k = 0; k < 64; ++k) CHECK(pb.x(i, k) == doctest::Approx(rot[perm[k]]).epsilon(1e-6));
  }
  // The plain file: identity permutation, zero angles.
  const std::vector<std::int64_t> id = a.read_ints("/truth/permutation");
  for (int k = 0; k < 64; ++k) CHECK(id[k] == k);
}

TEST_CASE("IDX files: gzipped and plain, and bad ones refused") {
  testutil::TempDir dir;
  // 3 images of 2x2 and their labels.
  std::vector<unsigned char> img = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
  for (int k = 0; k < 12; ++k) img.push_back(static_cast<unsigned char>(k * 20));
  std::vector<unsigned char> lab = {0, 0, 8, 1, 0, 0, 0, 3, 4, 0, 9};
  auto write = [&](const std::string& path, const std::vector<unsigned char>& b, bool gz) {
    if (gz) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    }
  };
  write(dir.file("i.gz"), img, true);
  write(dir.file("l"), lab, false);
  const tasks::ImageSet s = tasks::read_idx(dir.file("i.gz"), dir.file("l"));
  CHECK(s.size() == 3);
  CHECK(s.height == 2);
  CHECK(s.width == 2);
  CHECK(s.labels == std::vector<int>{4, 0, 9});
  CHECK(s.image(1)[3] == doctest::Approx(140 / 255.0));
  // Truncated, wrong magic, mismatched counts.
  std::vector<unsigned char> cut(img.begin(), img.end() - 1);
  write(dir.file("cut"), cut, false);
  CHECK_THROWS_AS(tasks::read_idx(dir.file("cut"), dir.file("l")), InputError);
  CHECK_THROWS_AS(tasks::read_idx(dir.file("l"), dir.file("l")), InputError);
  std::vector<unsigned char> two = {0, 0, 8, 1, 0, 0, 0, 2, 1, 2};
  write(dir.file("two"), two, false);
  CHECK_THROWS_AS(tasks::read_idx(dir.file("i.gz"), dir.file("two")), InputError);
  CHECK_THROWS_AS(tasks::read_idx(dir.file("missing"), dir.file("l")), InputError);
}

TEST_CASE("builtin glyphs: deterministic, ten classes, ink in range") {
  const tasks::ImageSet a = tasks::make_glyphs(200, 12, 5), b = tasks::make_glyphs(200, 12, 5);
  CHECK(a.pixels == b.pixels);
  CHECK(a.labels == b.labels);
  CHECK(std::set<int>(a.labels.begin(), a.labels.end()).size() == 10);
  // Image i depends only on (seed, first + i).
  const tasks::ImageSet tail = tasks::make_glyphs(10, 12, 5, 190);
  CHECK(std::equal(tail.pixels.begin(), tail.pixels.end(), a.image(190)));
  double ink = 0;
  for (float v : a.pixels) {
    CHECK(v >= 0.0f);
    CHECK(v <= 1.0f);
    ink += v;
  }
  CHECK(ink / a.pixels.size() > 0.05);  // something is drawn
  CHECK(ink / a.pixels.size() < 0.6);
}
