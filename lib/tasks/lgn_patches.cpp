#include "tasks/lgn_patches.hpp"

#include "tasks/whitening.hpp"

#include "tasks/images.hpp"
#include "util/error.hpp"
#include "util/rng.hpp"

#include <algorithm>
#include <cmath>

namespace symlearn::tasks {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kMostSide = 64;  // the operator functions' limit (a 4096 x 4096 matrix)
// Rng streams of the pairs of each split: clear of make_glyphs' streams
// (0x1000000 + image index, up to 2e7 images), so the builtin glyphs and the
// patch corners drawn from them are independent.
constexpr std::uint64_t kTrainStream = 0x10000000, kTestStream = 0x20000000;

void check_side(int p) {
  if (p < 1 || p > kMostSide) throw InputError("the patch side must be in [1, " + std::to_string(kMostSide) + "]");
}

// The right/bottom reflect padding of a k x k box; the left/top one is (k-1)/2 <= this.
int box_pad_after(int k) { return k - 1 - (k - 1) / 2; }

// What a transform name stands for: T = R(degrees) B(box), either part absent.
struct TransformParts {
  std::string name;
  double degrees;  // NaN: no rotation
  int box;         // 0: no box mean
};

const std::vector<TransformParts>& transform_table() {
  const double none = std::nan("");
  static const std::vector<TransformParts> t = {
      {"rot30", 30, 0},      {"rot45", 45, 0},      {"rot60", 60, 0},      {"rot90", 90, 0},
      {"box3", none, 3},     {"box4", none, 4},     {"box5", none, 5},     {"box6", none, 6},
      {"rot60-box4", 60, 4}, {"rot60-box5", 60, 5}, {"rot60-box6", 60, 6},
  };
  return t;
}

const TransformParts* find_transform(const std::string& name) {
  for (const TransformParts& t : transform_table())
    if (t.name == name) return &t;
  return nullptr;
}

std::string names_list() {
  std::string s;
  for (const std::string& n : patch_transform_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

Eigen::MatrixXd patch_rotation(int p, double degrees) {
  check_side(p);
  if (!std::isfinite(degrees)) throw InputError("the rotation angle must be finite");
  const double t = degrees * kPi / 180, ct = std::cos(t), st = std::sin(t), ctr = (p - 1) / 2.0;
  // Nearest integer with ties upward; the 1e-9 makes exact ties (e.g. 2.5 at
  // 45 degrees, where cos and sin differ in the last bit) round the same way
  // whatever the rounding error of the trigonometry.
  auto nearest = [](double s) { return static_cast<long>(std::floor(s + 0.5 + 1e-9)); };
  Eigen::MatrixXd r = Eigen::MatrixXd::Zero(p * p, p * p);
  for (int row = 0; row < p; ++row)
    for (int col = 0; col < p; ++col) {
      // The point that turns onto pixel (row, col): the offset turned back by
      // the angle (rotate_image's and rotation_operator's convention, which
      // with rows going down is counter-clockwise as displayed).
      const double dx = col - ctr, dy = row - ctr;
      const long sx = nearest(ctr + ct * dx - st * dy), sy = nearest(ctr + st * dx + ct * dy);
      if (sx < 0 || sx >= p || sy < 0 || sy >= p) continue;  // from outside the patch: 0
      r(row * p + col, sy * p + sx) = 1;
    }
  return r;
}

Eigen::MatrixXd patch_box_mean(int p, int k) {
  check_side(p);
  if (k < 1 || box_pad_after(k) >= p)
    throw InputError("a " + std::to_string(k) + " x " + std::to_string(k) + " box mean needs k >= 1 and a patch side over " +
                     std::to_string(std::max(0, box_pad_after(k))) + ", not " + std::to_string(p));
  // The 1-D mean along one axis; the 2-D one is its Kronecker square
  // (row-major pixels: rows are the slow index).
  const int before = (k - 1) / 2;
  auto reflect = [p](int i) { return i < 0 ? -i : i >= p ? 2 * (p - 1) - i : i; };
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(p, p);
  for (int i = 0; i < p; ++i)
    for (int a = 0; a < k; ++a) m(i, reflect(i - before + a)) += 1.0 / k;  // a reflected tap can repeat a pixel
  Eigen::MatrixXd b(p * p, p * p);
  for (int r = 0; r < p; ++r)
    for (int i = 0; i < p; ++i) b.block(r * p, i * p, p, p) = m(r, i) * m;
  return b;
}

const std::vector<std::string>& patch_transform_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const TransformParts& t : transform_table()) n.push_back(t.name);
    return n;
  }();
  return names;
}

Eigen::MatrixXd patch_transform(int p, const std::string& name) {
  const TransformParts* t = find_transform(name);
  if (!t) throw InputError("unknown patch transform '" + name + "' (one of " + names_list() + ")");
  check_side(p);
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(p * p, p * p);
  if (t->box) m = patch_box_mean(p, t->box);
  if (!std::isnan(t->degrees)) m = patch_rotation(p, t->degrees) * m;  // pool first, then rotate
  return m;
}

void LgnPatchesSpec::validate() const {
  const TransformParts* t = find_transform(transform);
  if (!t) throw InputError("--transform must be one of " + names_list() + ", not '" + transform + "'");
  if (source != "gaussian" && source != "fashion-mnist" && source != "builtin" && source.rfind("idx:", 0) != 0)
    throw InputError("--source must be gaussian, fashion-mnist, builtin or idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS], not '" +
                     source + "'");
  if (patch < 2 || patch > 16) throw InputError("--patch must be in [2, 16]");
  if (t->box && box_pad_after(t->box) >= patch)
    throw InputError("--transform " + transform + " needs --patch >= " + std::to_string(box_pad_after(t->box) + 1) +
                     " (its reflect padding must be shorter than the patch)");
  if (train < 1 || train > 10'000'000) throw InputError("--train must be in [1, 10000000]");
  if (test < 1 || test > 10'000'000) throw InputError("--test must be in [1, 10000000]");
  if (double(train + test) * dim() > 4e8) throw InputError("--train + --test times patch^2 is too large (over 4e8 numbers)");
  if (!(whiten_epsilon >= 0) || !std::isfinite(whiten_epsilon)) throw InputError("--whiten-epsilon must be finite and >= 0");
  // The glyphs are drawn, all of them held in memory (16 x 16 floats each): the same cap as the pairs.
  if (source == "builtin" && double(train + test) * 256 > 4e8)
    throw InputError("--source builtin: --train + --test glyphs are too many (over 4e8 pixels)");
}

nlohmann::json LgnPatchesSpec::config() const {
  return {{"kind", "lgn-patches"}, {"transform", transform},           {"source", source},
          {"patch", patch},        {"dim", dim()},                     {"train", train},
          {"test", test},          {"whiten", whiten}, {"whiten_epsilon", whiten_epsilon},
          {"seed", seed}};
}

namespace {

// The images of a source: `train` is the whole training split (the whitening
// statistics come from all of it), `test` the test images asked for.
struct SourceImages {
  ImageSet train, test;
};

SourceImages load_images(const LgnPatchesSpec& s) {
  if (s.source == "builtin") return {make_glyphs(s.train, 16, s.seed, 0), make_glyphs(s.test, 16, s.seed, s.train)};
  const std::vector<std::string> files = source_files(s.source);
  ImageSet a = read_idx(files[0], files[1]);
  if (files.size() == 2) {
    // One pool: the first --train images are the training split, the next --test the test split.
    if (s.train + s.test > a.size())
      throw InputError(files[0] + ": holds " + std::to_string(a.size()) + " images, fewer than --train + --test = " +
                       std::to_string(s.train + s.test));
    return {a.head(s.train), a.slice(s.train, s.test)};
  }
  ImageSet b = read_idx(files[2], files[3]);
  if (b.height != a.height || b.width != a.width || b.channels != a.channels)
    throw InputError(files[2] + ": its images differ in size from " + files[0] + "'s");
  if (s.train > a.size())
    throw InputError(files[0] + ": --train " + std::to_string(s.train) + " but it holds " + std::to_string(a.size()) + " images");
  if (s.test > b.size())
    throw InputError(files[2] + ": --test " + std::to_string(s.test) + " but it holds " + std::to_string(b.size()) + " images");
  return {std::move(a), b.head(s.test)};
}

// Channel 0 of image i as doubles (H*W, row-major).
Eigen::VectorXd plane(const ImageSet& set, long i) {
  const float* img = set.image(i);
  Eigen::VectorXd v(long(set.height) * set.width);
  for (Eigen::Index k = 0; k < v.size(); ++k) v(k) = img[k * set.channels];
  return v;
}

// Maps a whole image (channel 0) to the values patches are cut from:
// tasks/whitening's standardisation and ZCA, fitted on the training images;
// without whitening, the identity.
struct Whitener {
  bool on = false;
  Whitening w;

  Whitener(const ImageSet& train, bool whiten, double epsilon) : on(whiten) {
    if (on)
      w = fit_whitening(train.size(), long(train.height) * train.width, [&](long i) { return plane(train, i); }, epsilon);
  }

  // The p x p patch at (r0, c0) of the image, row-major. Only the rows of W
  // for the patch's pixels are needed.
  Eigen::VectorXd patch(const ImageSet& set, long i, int p, int r0, int c0) const {
    const Eigen::VectorXd x = plane(set, i);
    Eigen::VectorXd out(p * p);
    Eigen::VectorXd centred;
    if (on) centred = (x.array() - w.mean) / w.std - w.centre.transpose().array();
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        const long k = long(r0 + a) * set.width + (c0 + b);
        out(a * p + b) = on ? w.zca.row(k).dot(centred) : x(k);
      }
    return out;
  }
};

// The x of one split, d x n: noise, or one random patch of each of the first n images.
Eigen::MatrixXd draw_patches(const LgnPatchesSpec& s, const ImageSet* images, const Whitener* white, long n,
                             std::uint64_t stream) {
  const int p = s.patch;
  Eigen::MatrixXd x(s.dim(), n);
  for (long i = 0; i < n; ++i) {
    Rng rng(s.seed, stream + std::uint64_t(i));  // pair i depends only on (seed, split, i)
    if (!images) {
      for (int k = 0; k < s.dim(); ++k) x(k, i) = rng.normal();
      continue;
    }
    const int r0 = static_cast<int>(rng.below(std::uint64_t(images->height - p + 1)));
    const int c0 = static_cast<int>(rng.below(std::uint64_t(images->width - p + 1)));
    x.col(i) = white->patch(*images, i, p, r0, c0);
  }
  return x;
}

void write_split(io::Writer& out, const std::string& g, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
  // A column-major d x N matrix is the row-major [N, d] the file holds.
  const std::uint64_t n = std::uint64_t(x.cols()), d = std::uint64_t(x.rows());
  out.group(g);
  out.write(g + "/x", {1, n, d}, x.data());
  out.write(g + "/y", {1, n, d}, y.data());
}

}  // namespace

void write_lgn_patches(const LgnPatchesSpec& s, io::Writer& out) {
  s.validate();
  const int d = s.dim();
  const Eigen::MatrixXd t = patch_transform(s.patch, s.transform);
  Eigen::MatrixXd xtr, xte;
  const bool whitened = s.image_source() && s.whiten;
  if (s.image_source()) {
    const SourceImages src = load_images(s);
    if (src.train.height < s.patch || src.train.width < s.patch)
      throw InputError("--patch " + std::to_string(s.patch) + " does not fit the source's " + std::to_string(src.train.height) +
                       "x" + std::to_string(src.train.width) + " images");
    if (src.train.size() < s.train || src.test.size() < s.test)
      throw InputError("--source " + s.source + " holds fewer images than --train / --test ask for");
    const Whitener white(src.train, whitened, s.whiten_epsilon);
    xtr = draw_patches(s, &src.train, &white, s.train, kTrainStream);
    xte = draw_patches(s, &src.test, &white, s.test, kTestStream);
  } else {
    xtr = draw_patches(s, nullptr, nullptr, s.train, kTrainStream);
    xte = draw_patches(s, nullptr, nullptr, s.test, kTestStream);
  }
  out.attr("/", "kind", std::string("lgn-patches"));
  out.attr("/", "transform", s.transform);
  out.attr("/", "patch", std::int64_t(s.patch));
  out.attr("/", "dim", std::int64_t(d));
  out.attr("/", "source", s.source);
  out.attr("/", "whitened", std::int64_t(whitened ? 1 : 0));
  out.attr("/", "whiten_epsilon", s.whiten_epsilon);
  write_split(out, "/train", xtr, t * xtr);
  write_split(out, "/test", xte, t * xte);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> tr = t;
  out.group("/truth");
  out.write("/truth/operator", {std::uint64_t(d), std::uint64_t(d)}, tr.data());
  out.attr("/truth/operator", "description",
           std::string("T with y = T x, row-major pixels: " + s.transform +
                       " (nearest-neighbour rotation counter-clockwise, fill 0; box mean with reflect padding; "
                       "box first, then rotation)"));
}

PatchPairs load_patch_pairs(const io::Reader& f, const std::string& split) {
  const std::string kind = f.has_attr("/", "kind") ? f.attr_string("/", "kind") : "";
  if (kind != "lgn-patches")
    throw InputError(f.name() + ": holds " + (kind.empty() ? std::string("unknown") : kind) +
                     " tasks, not patch pairs (gen-tasks lgn-patches)");
  PatchPairs p;
  p.patch = static_cast<int>(f.attr_int("/", "patch"));
  const long dim = f.attr_int("/", "dim");
  p.transform = f.attr_string("/", "transform");
  if (!find_transform(p.transform)) throw InputError(f.name() + ": unknown patch transform " + p.transform);
  if (p.patch < 2 || p.patch > kMostSide || dim != long(p.patch) * p.patch)
    throw InputError(f.name() + ": its patch and dim attributes do not fit (dim must be patch^2)");
  const int d = static_cast<int>(dim);
  if (!f.has(split + "/x") || !f.has(split + "/y")) throw InputError(f.name() + ": has no " + split + "/x and " + split + "/y");
  const io::Array x = f.read(split + "/x", {1, -1, d});
  const io::Array y = f.read(split + "/y", {1, -1, d});
  const long n = static_cast<long>(x.shape[1]);
  if (long(y.shape[1]) != n) throw InputError(f.name() + ": " + split + "/x and " + split + "/y hold different numbers of pairs");
  if (n < 1) throw InputError(f.name() + ": " + split + " holds no pairs");
  p.x = Eigen::Map<const Eigen::MatrixXd>(x.data.data(), d, n);  // row-major [n, d] is column-major [d, n]
  p.y = Eigen::Map<const Eigen::MatrixXd>(y.data.data(), d, n);
  if (!p.x.allFinite() || !p.y.allFinite()) throw InputError(f.name() + ": " + split + " holds NaN or infinite values");
  return p;
}

Eigen::MatrixXd load_true_operator(const io::Reader& f) {
  const long d = f.has_attr("/", "dim") ? f.attr_int("/", "dim") : 0;
  if (!f.has("/truth/operator") || d < 1 || d > kMostSide * kMostSide)
    throw InputError(f.name() + ": has no /truth/operator (gen-tasks lgn-patches writes one)");
  const io::Array g = f.read("/truth/operator", {d, d});
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMat m = Eigen::Map<const RowMat>(g.data.data(), d, d);
  if (!m.allFinite()) throw InputError(f.name() + ": /truth/operator holds NaN or infinite values");
  return m;
}

}  // namespace symlearn::tasks
