#include "tasks/images.hpp"

#include "tasks/dataset.hpp"
#include "util/error.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>

namespace symlearn::tasks {

namespace {

constexpr const char* kFashionDir = "/usr/share/datasets/fashion-mnist/";
constexpr double kPi = 3.14159265358979323846;

// The whole (decompressed) content of a file; gzread passes plain files through.
std::vector<unsigned char> read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open");
  std::vector<unsigned char> out;
  std::array<unsigned char, 1 << 16> buf;
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      gzclose(f);
      throw InputError(path + ": corrupt gzip data");
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  gzclose(f);
  return out;
}

std::uint32_t be32(const std::vector<unsigned char>& b, std::size_t at) {
  return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) | (std::uint32_t(b[at + 2]) << 8) |
         std::uint32_t(b[at + 3]);
}

// Dimensions of an IDX file of unsigned bytes with 1..4 dimensions.
std::vector<std::uint32_t> idx_header(const std::string& path, const std::vector<unsigned char>& b) {
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] < 1 || b[3] > 4)
    throw InputError(path + ": not an IDX file of unsigned bytes (bad magic number)");
  const int nd = b[3];
  if (b.size() < 4 + 4 * std::size_t(nd)) throw InputError(path + ": truncated IDX header");
  std::vector<std::uint32_t> dims;
  std::uint64_t total = 1;
  for (int d = 0; d < nd; ++d) {
    dims.push_back(be32(b, 4 + 4 * d));
    total *= dims.back();
    if (total > (std::uint64_t(1) << 34)) throw InputError(path + ": IDX dimensions are implausibly large");
  }
  if (b.size() != 4 + 4 * std::size_t(nd) + total)
    throw InputError(path + ": holds " + std::to_string(b.size() - 4 - 4 * nd) + " data bytes but its header says " +
                     std::to_string(total) + " (truncated or corrupt)");
  return dims;
}

double seg_dist(double px, double py, double ax, double ay, double bx, double by) {
  const double dx = bx - ax, dy = by - ay;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = px - (ax + t * dx), ey = py - (ay + t * dy);
  return std::sqrt(ex * ex + ey * ey);
}

struct Seg {
  double ax, ay, bx, by;
};

// Glyphs in unit coordinates (x right, y down, |x|,|y| <= 1) as strokes.
const std::vector<std::vector<Seg>>& glyph_segments() {
  static const std::vector<std::vector<Seg>> g = {
      {},                                                                                      // 0 ring
      {},                                                                                      // 1 disc
      {{-.7, -.7, .7, -.7}, {.7, -.7, .7, .7}, {.7, .7, -.7, .7}, {-.7, .7, -.7, -.7}},        // 2 square
      {{0, -.8, .75, .6}, {.75, .6, -.75, .6}, {-.75, .6, 0, -.8}},                            // 3 triangle
      {{-.8, 0, .8, 0}, {0, -.8, 0, .8}},                                                      // 4 plus
      {{-.8, -.7, .8, -.7}, {0, -.7, 0, .8}},                                                  // 5 T
      {{-.5, -.8, -.5, .7}, {-.5, .7, .6, .7}},                                                // 6 L
      {{-.7, -.35, .7, -.35}, {-.7, .35, .7, .35}},                                            // 7 equals
      {{-.7, -.7, .7, -.7}, {.7, -.7, -.7, .7}, {-.7, .7, .7, .7}},                            // 8 Z
      {{-.7, -.7, 0, .75}, {0, .75, .7, -.7}},                                                 // 9 V
  };
  return g;
}

}  // namespace

const std::vector<std::string>& glyph_names() {
  static const std::vector<std::string> n = {"ring", "disc", "square", "triangle", "plus",
                                             "T",    "L",    "equals", "Z",        "V"};
  return n;
}

ImageSet ImageSet::slice(long first, long n) const {
  ImageSet s;
  s.height = height;
  s.width = width;
  s.channels = channels;
  s.pixels.assign(pixels.begin() + first * image_size(), pixels.begin() + (first + n) * image_size());
  s.labels.assign(labels.begin() + first, labels.begin() + first + n);
  return s;
}

ImageSet ImageSet::head(long n) const { return slice(0, n); }

ImageSet read_idx(const std::string& images_path, const std::string& labels_path) {
  const std::vector<unsigned char> ib = read_all(images_path);
  const std::vector<std::uint32_t> idims = idx_header(images_path, ib);
  if (idims.size() != 3 && idims.size() != 4)
    throw InputError(images_path + ": an IDX image file has 3 or 4 dimensions, this one " + std::to_string(idims.size()));
  const std::vector<unsigned char> lb = read_all(labels_path);
  const std::vector<std::uint32_t> ldims = idx_header(labels_path, lb);
  if (ldims.size() != 1) throw InputError(labels_path + ": an IDX label file has 1 dimension, this one " + std::to_string(ldims.size()));
  if (ldims[0] != idims[0])
    throw InputError(labels_path + ": holds " + std::to_string(ldims[0]) + " labels but " + images_path + " holds " +
                     std::to_string(idims[0]) + " images");
  if (idims[0] == 0 || idims[1] == 0 || idims[2] == 0 || (idims.size() == 4 && idims[3] == 0))
    throw InputError(images_path + ": holds no pixels");
  ImageSet s;
  s.height = static_cast<int>(idims[1]);
  s.width = static_cast<int>(idims[2]);
  s.channels = idims.size() == 4 ? static_cast<int>(idims[3]) : 1;
  const std::size_t off = 4 + 4 * idims.size();
  s.pixels.resize(ib.size() - off);
  for (std::size_t k = 0; k < s.pixels.size(); ++k) s.pixels[k] = static_cast<float>(ib[off + k] / 255.0);
  s.labels.resize(ldims[0]);
  for (std::size_t k = 0; k < s.labels.size(); ++k) {
    s.labels[k] = lb[8 + k];  // after the header: 4 bytes magic, 4 bytes count
    if (s.labels[k] > 99) throw InputError(labels_path + ": label " + std::to_string(s.labels[k]) + " is not a class index");
  }
  return s;
}

ImageSet make_glyphs(long n, int size, std::uint64_t seed, long first) {
  ImageSet s;
  s.height = s.width = size;
  s.channels = 1;
  s.pixels.assign(std::size_t(n) * size * size, 0.0f);
  s.labels.resize(n);
  const auto& segs = glyph_segments();
  const double c0 = (size - 1) / 2.0;
  for (long i = 0; i < n; ++i) {
    Rng rng(seed, 0x1000000 + std::uint64_t(first + i));
    const int label = static_cast<int>(rng.below(10));
    s.labels[i] = label;
    const double radius = rng.uniform(0.28, 0.42) * size;         // half the glyph's extent, pixels
    const double cx = c0 + rng.uniform(-0.1, 0.1) * size;          // position
    const double cy = c0 + rng.uniform(-0.1, 0.1) * size;
    const double stroke = rng.uniform(0.9, 1.8) * size / 16.0;     // stroke width, pixels
    const double noise = 0.05;
    float* img = s.image(i);
    for (int r = 0; r < size; ++r) {
      for (int c = 0; c < size; ++c) {
        const double ux = (c - cx) / radius, uy = (r - cy) / radius;
        double d;  // distance to the glyph in pixels (0 inside filled parts)
        if (label == 0) {
          d = std::abs(std::hypot(ux, uy) - 0.8) * radius;
        } else if (label == 1) {
          d = std::max(0.0, std::hypot(ux, uy) - 0.6) * radius;
        } else {
          d = std::numeric_limits<double>::infinity();
          for (const Seg& g : segs[label]) d = std::min(d, seg_dist(ux, uy, g.ax, g.ay, g.bx, g.by) * radius);
        }
        const double ink = std::clamp(0.5 + stroke / 2 - d, 0.0, 1.0);
        img[r * size + c] = static_cast<float>(std::clamp(ink + noise * rng.normal(), 0.0, 1.0));
      }
    }
  }
  return s;
}

namespace {

// Where output pixel (r, c) of an image turned by t radians samples the
// input. With y pointing down, a counter-clockwise turn as displayed maps
// (x, y) to (x cos t + y sin t, -x sin t + y cos t); this is its inverse.
struct Turn {
  double ct, st, cx, cy;
  Turn(int height, int width, double degrees)
      : ct(std::cos(degrees * kPi / 180.0)), st(std::sin(degrees * kPi / 180.0)), cx((width - 1) / 2.0),
        cy((height - 1) / 2.0) {}
  void source(int r, int c, double& sy, double& sx) const {
    const double dx = c - cx, dy = r - cy;
    sx = cx + ct * dx - st * dy;
    sy = cy + st * dx + ct * dy;
  }
};

// Inverse of the n x n matrix of cubic B-spline interpolation, (c[k-1] +
// 4 c[k] + c[k+1]) / 6 = f[k], with the coefficients mirrored at the ends
// (c[-1] = c[1], c[n] = c[n-2]); f = M c, so c = M^-1 f.
Eigen::MatrixXd spline_prefilter(int n) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n, n);
  for (int k = 0; k < n; ++k) {
    m(k, k) += 4.0 / 6.0;
    for (int j : {k - 1, k + 1}) {
      const int mirrored = j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
      m(k, std::clamp(mirrored, 0, n - 1)) += 1.0 / 6.0;
    }
  }
  if (n == 1) m(0, 0) = 1;
  return m.inverse();
}

// The four cubic B-spline weights for taps i0-1 .. i0+2 at fraction t.
std::array<double, 4> bspline_weights(double t) {
  const double s = 1 - t;
  return {s * s * s / 6, (4 - 6 * t * t + 3 * t * t * t) / 6, (4 - 6 * s * s + 3 * s * s * s) / 6, t * t * t / 6};
}

}  // namespace

std::vector<float> rotate_image(const float* image, int height, int width, int channels, double degrees,
                                Interpolation interpolation) {
  const Turn turn(height, width, degrees);
  std::vector<float> out(std::size_t(height) * width * channels);
  if (interpolation == Interpolation::cubic) {
    // Spline coefficients C = Ph F Pw^T per channel, then each output pixel a
    // 4 x 4 weighted sum of them at its clamped source point.
    const Eigen::MatrixXd ph = spline_prefilter(height), pw = spline_prefilter(width);
    std::vector<Eigen::MatrixXd> coef(static_cast<std::size_t>(channels));
    for (int k = 0; k < channels; ++k) {
      Eigen::MatrixXd f(height, width);
      for (int r = 0; r < height; ++r)
        for (int c = 0; c < width; ++c) f(r, c) = image[(std::size_t(r) * width + c) * channels + k];
      coef[std::size_t(k)] = ph * f * pw.transpose();
    }
    auto mirror = [](int i, int n) { return n == 1 ? 0 : i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; };
    for (int r = 0; r < height; ++r)
      for (int c = 0; c < width; ++c) {
        double sy, sx;
        turn.source(r, c, sy, sx);
        sx = std::clamp(sx, 0.0, double(width - 1));
        sy = std::clamp(sy, 0.0, double(height - 1));
        const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
        const auto wx = bspline_weights(sx - x0), wy = bspline_weights(sy - y0);
        for (int k = 0; k < channels; ++k) {
          const Eigen::MatrixXd& cf = coef[std::size_t(k)];
          double v = 0;
          for (int a = 0; a < 4; ++a) {
            const int yy = mirror(y0 - 1 + a, height);
            double row = 0;
            for (int b = 0; b < 4; ++b) row += wx[std::size_t(b)] * cf(yy, mirror(x0 - 1 + b, width));
            v += wy[std::size_t(a)] * row;
          }
          out[(std::size_t(r) * width + c) * channels + k] = static_cast<float>(v);
        }
      }
    return out;
  }
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      double sy, sx;
      turn.source(r, c, sy, sx);
      sx = std::clamp(sx, 0.0, double(width - 1));
      sy = std::clamp(sy, 0.0, double(height - 1));
      const int x0 = std::min(static_cast<int>(std::floor(sx)), width - 1);
      const int y0 = std::min(static_cast<int>(std::floor(sy)), height - 1);
      const int x1 = std::min(x0 + 1, width - 1), y1 = std::min(y0 + 1, height - 1);
      const double fx = sx - x0, fy = sy - y0;
      for (int k = 0; k < channels; ++k) {
        auto at = [&](int y, int x) { return double(image[(std::size_t(y) * width + x) * channels + k]); };
        const double v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        out[(std::size_t(r) * width + c) * channels + k] = static_cast<float>(v);
      }
    }
  }
  return out;
}

std::vector<std::int64_t> random_permutation(long n, Rng& rng) {
  std::vector<std::int64_t> p(n);
  for (long i = 0; i < n; ++i) p[i] = i;
  for (long i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(std::uint64_t(i) + 1)]);
  return p;
}

std::vector<float> permute_pixels(const float* image, int pixels, int channels, const std::vector<std::int64_t>& perm) {
  std::vector<float> out(std::size_t(pixels) * channels);
  for (int k = 0; k < pixels; ++k)
    for (int c = 0; c < channels; ++c) out[std::size_t(k) * channels + c] = image[std::size_t(perm[k]) * channels + c];
  return out;
}

void RotatedScrambledSpec::validate() const {
  if (source != "builtin" && source != "fashion-mnist" && source.rfind("idx:", 0) != 0)
    throw InputError("--source must be builtin, fashion-mnist or idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS], not '" +
                     source + "'");
  if (train == 0 || train < -1) throw InputError("--train must be >= 1");
  if (test == 0 || test < -1) throw InputError("--test must be >= 1");
  if (size < 4 || size > 256) throw InputError("--size must be in [4, 256]");
  if (interpolation != "bilinear" && interpolation != "cubic")
    throw InputError("--interpolation must be bilinear or cubic, not '" + interpolation + "'");
  if (pixels != "unit" && pixels != "centered") throw InputError("--pixels must be unit or centered, not '" + pixels + "'");
  if (!(val_fraction >= 0 && val_fraction < 1)) throw InputError("--val-fraction must be in [0, 1)");
}

nlohmann::json RotatedScrambledSpec::config() const {
  return {{"kind", "rotated-scrambled"},
          {"source", source},
          {"rotate", rotate},
          {"scramble", scramble},
          {"train", train},
          {"test", test},
          {"size", size},
          {"interpolation", interpolation},
          {"pixels", pixels},
          {"val_fraction", val_fraction},
          {"seed", seed}};
}

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t k = s.find(',', start);
    out.push_back(s.substr(start, k == std::string::npos ? std::string::npos : k - start));
    if (k == std::string::npos) break;
    start = k + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> source_files(const std::string& source) {
  std::vector<std::string> files;
  if (source == "fashion-mnist") {
    const std::string d = kFashionDir;
    files = {d + "train-images-idx3-ubyte.gz", d + "train-labels-idx1-ubyte.gz", d + "t10k-images-idx3-ubyte.gz",
             d + "t10k-labels-idx1-ubyte.gz"};
    if (!std::ifstream(files[0]).good())
      throw InputError(files[0] + ": not found (install the Debian package dataset-fashion-mnist, e.g. with "
                                  "cmake/install-deps.sh --with-fashion-mnist)");
  } else {
    files = split_commas(source.substr(4));
    if (files.size() != 2 && files.size() != 4)
      throw InputError("--source idx: wants IMAGES,LABELS or TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS");
  }
  return files;
}

namespace {

// The train and test images of the source, sized as asked.
std::pair<ImageSet, ImageSet> load_source(const RotatedScrambledSpec& s) {
  if (s.source == "builtin") {
    const long ntr = s.train > 0 ? s.train : 4000, nte = s.test > 0 ? s.test : 1000;
    return {make_glyphs(ntr, s.size, s.seed, 0), make_glyphs(nte, s.size, s.seed, ntr)};
  }
  const std::vector<std::string> files = source_files(s.source);
  ImageSet a = read_idx(files[0], files[1]);
  ImageSet train, test;
  if (files.size() == 4) {
    ImageSet b = read_idx(files[2], files[3]);
    if (b.height != a.height || b.width != a.width || b.channels != a.channels)
      throw InputError(files[2] + ": its images differ in size from " + files[0] + "'s");
    const long ntr = s.train > 0 ? s.train : a.size(), nte = s.test > 0 ? s.test : b.size();
    if (ntr > a.size()) throw InputError(files[0] + ": --train " + std::to_string(ntr) + " but it holds " + std::to_string(a.size()) + " images");
    if (nte > b.size()) throw InputError(files[2] + ": --test " + std::to_string(nte) + " but it holds " + std::to_string(b.size()) + " images");
    return {a.head(ntr), b.head(nte)};
  }
  // One pool: 80/20 unless sizes are given; train first, test after it.
  const long ntr = s.train > 0 ? s.train : a.size() * 4 / 5;
  const long nte = s.test > 0 ? s.test : a.size() - ntr;
  if (ntr + nte > a.size() || nte < 1)
    throw InputError(files[0] + ": holds " + std::to_string(a.size()) + " images, fewer than --train + --test = " +
                     std::to_string(ntr + nte));
  return {a.slice(0, ntr), a.slice(ntr, nte)};
}

void transform(ImageSet& set, const RotatedScrambledSpec& s, const std::vector<std::int64_t>& perm,
               std::vector<double>& angles, std::uint64_t stream0) {
  const int pixels = set.height * set.width;
  const Interpolation how = s.interpolation == "cubic" ? Interpolation::cubic : Interpolation::bilinear;
  angles.assign(set.size(), 0.0);
  // Centred pixels are shifted before the turn, as the authors' code does
  // (the border extension then extends the shifted values).
  if (s.pixels == "centered")
    for (float& v : set.pixels) v -= 0.5f;
  for (long i = 0; i < set.size(); ++i) {
    float* img = set.image(i);
    if (s.rotate) {
      Rng rng(s.seed, stream0 + std::uint64_t(i));
      angles[i] = rng.uniform(-90.0, 90.0);
      const std::vector<float> r = rotate_image(img, set.height, set.width, set.channels, angles[i], how);
      std::copy(r.begin(), r.end(), img);
    }
    if (s.scramble) {
      const std::vector<float> p = permute_pixels(img, pixels, set.channels, perm);
      std::copy(p.begin(), p.end(), img);
    }
  }
}

void write_split(io::Writer& out, const std::string& g, const ImageSet& set) {
  out.group(g);
  const std::uint64_t n = set.size(), d = set.image_size();
  out.write(g + "/x", {1, n, d}, set.pixels.data());
  std::vector<std::int64_t> y(set.labels.begin(), set.labels.end());
  out.write(g + "/y", {1, n}, y.data());
}

}  // namespace

RotatedScrambledStats write_rotated_scrambled(const RotatedScrambledSpec& s, io::Writer& out) {
  s.validate();
  auto [train, test] = load_source(s);
  const int pixels = train.height * train.width;
  Rng prng(s.seed, 1);
  std::vector<std::int64_t> perm(pixels);
  if (s.scramble) {
    perm = random_permutation(pixels, prng);
  } else {
    for (int k = 0; k < pixels; ++k) perm[k] = k;
  }
  std::vector<double> train_angle, test_angle;
  transform(train, s, perm, train_angle, 0x2000000);
  transform(test, s, perm, test_angle, 0x4000000);
  // Validation: the last images of the (transformed) training set, as Keras's
  // validation_split takes them.
  const long nval = static_cast<long>(std::floor(s.val_fraction * double(train.size())));
  if (s.val_fraction > 0 && (nval < 1 || nval >= train.size()))
    throw InputError("--val-fraction " + std::to_string(s.val_fraction) + " of " + std::to_string(train.size()) +
                     " training images leaves no validation or no training image");
  const ImageSet val = train.slice(train.size() - nval, nval);
  const std::vector<double> val_angle(train_angle.end() - nval, train_angle.end());
  if (nval > 0) {
    train = train.head(train.size() - nval);
    train_angle.resize(std::size_t(train.size()));
  }
  int classes = 0;
  for (int l : train.labels) classes = std::max(classes, l + 1);
  for (int l : test.labels) classes = std::max(classes, l + 1);

  out.attr("/", "kind", std::string("rotated-scrambled"));
  out.attr("/", "height", std::int64_t(train.height));
  out.attr("/", "width", std::int64_t(train.width));
  out.attr("/", "channels", std::int64_t(train.channels));
  out.attr("/", "classes", std::int64_t(classes));
  write_split(out, "/train", train);
  if (nval > 0) write_split(out, "/val", val);
  write_split(out, "/test", test);
  out.group("/truth");
  out.write("/truth/permutation", {std::uint64_t(pixels)}, perm.data());
  out.attr("/truth/permutation", "description",
           std::string("stored pixel k (row-major) is pixel permutation[k] of the rotated image"));
  out.write("/truth/train_angle", {train_angle.size()}, train_angle.data());
  out.write("/truth/test_angle", {test_angle.size()}, test_angle.data());
  if (nval > 0) out.write("/truth/val_angle", {val_angle.size()}, val_angle.data());
  out.attr("/truth/train_angle", "description", std::string("rotation of each image, degrees, counter-clockwise"));
  RotatedScrambledStats st;
  st.train = train.size();
  st.val = nval;
  st.test = test.size();
  st.height = train.height;
  st.width = train.width;
  st.channels = train.channels;
  st.classes = classes;
  return st;
}

ImageSplit load_image_split(const io::Reader& f, const std::string& split, long limit) {
  const std::string kind = f.has_attr("/", "kind") ? f.attr_string("/", "kind") : "";
  if (kind != "rotated-scrambled")
    throw InputError(f.name() + ": holds " + (kind.empty() ? std::string("unknown") : kind) +
                     " tasks, not image classification data (gen-tasks rotated-scrambled)");
  ImageSplit s;
  s.name = split;
  s.height = static_cast<int>(f.attr_int("/", "height"));
  s.width = static_cast<int>(f.attr_int("/", "width"));
  s.channels = static_cast<int>(f.attr_int("/", "channels"));
  s.classes = static_cast<int>(f.attr_int("/", "classes"));
  if (s.height < 1 || s.width < 1 || s.channels < 1 || s.classes < 2 || s.classes > 1000)
    throw InputError(f.name() + ": implausible image attributes (height, width, channels, classes)");
  const long d = long(s.height) * s.width * s.channels;
  if (!f.has(split + "/x") || !f.has(split + "/y")) throw InputError(f.name() + ": has no " + split + "/x and " + split + "/y");
  const io::Array x = f.read(split + "/x", {1, -1, d});
  io::Shape yshape;
  const std::vector<std::int64_t> y = f.read_ints(split + "/y", &yshape);
  const long n = static_cast<long>(x.shape[1]);
  if (yshape.size() != 2 || yshape[0] != 1 || long(yshape[1]) != n)
    throw InputError(f.name() + ": " + split + "/y has shape " + io::shape_str(yshape) + " but " + split + "/x holds " +
                     std::to_string(n) + " images (expected [1," + std::to_string(n) + "])");
  if (n < 1) throw InputError(f.name() + ": " + split + " holds no images");
  const long keep = limit > 0 ? std::min(limit, n) : n;
  s.x = Eigen::Map<const RowMat>(x.data.data(), n, d).topRows(keep);
  s.labels.resize(keep);
  for (long i = 0; i < keep; ++i) {
    if (y[i] < 0 || y[i] >= s.classes)
      throw InputError(f.name() + ": " + split + "/y[" + std::to_string(i) + "] = " + std::to_string(y[i]) +
                       " is outside [0," + std::to_string(s.classes) + ")");
    s.labels[i] = static_cast<int>(y[i]);
  }
  return s;
}

}  // namespace symlearn::tasks
