#include "methods/images/models.hpp"

#include <algorithm>

#include "util/error.hpp"

#include <cmath>

namespace symlearn::images {

using ad::Index;
using ad::Mat;
using ad::Var;

namespace {

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k = {"lconv", "lconv-random", "cnn", "fc", "fc-shallow"};
  return k;
}

Mat randn(Rng& rng, Index r, Index c, double std) {
  Mat m(r, c);
  for (Index j = 0; j < c; ++j)
    for (Index i = 0; i < r; ++i) m(i, j) = std * rng.normal();
  return m;
}

// Keras's glorot_normal: a normal truncated at 2 std, rescaled to variance std^2.
Mat truncated_randn(Rng& rng, Index r, Index c, double std) {
  Mat m(r, c);
  for (Index j = 0; j < c; ++j)
    for (Index i = 0; i < r; ++i) m(i, j) = std * rng.truncated_normal();
  return m;
}

Mat uniform(Rng& rng, Index r, Index c, double bound) {
  Mat m(r, c);
  for (Index j = 0; j < c; ++j)
    for (Index i = 0; i < r; ++i) m(i, j) = rng.uniform(-bound, bound);
  return m;
}

// Glorot scales from fans (Keras: a 3-D [S, R, K] tensor has fan_in S*R,
// fan_out S*K).
double glorot_std(double fan_in, double fan_out) { return std::sqrt(2.0 / (fan_in + fan_out)); }
double glorot_bound(double fan_in, double fan_out) { return std::sqrt(6.0 / (fan_in + fan_out)); }

ImageParam make(std::string name, Mat value, std::string role, std::vector<std::uint64_t> stored, bool side = false) {
  ImageParam p;
  p.name = std::move(name);
  p.value = std::move(value);
  p.role = std::move(role);
  p.stored = std::move(stored);
  p.side_by_side = side;
  return p;
}

}  // namespace

void ImageArch::validate() const {
  if (std::find(kinds().begin(), kinds().end(), kind) == kinds().end())
    throw InputError("model " + kind + " is not an image model (lconv, lconv-random, cnn, fc, fc-shallow)");
  if (height < 1 || width < 1 || channels < 1) throw InputError("the images have no pixels");
  if (classes < 2) throw InputError("fewer than 2 classes");
  if (layers < 1 || layers > 2) throw InputError("--layers must be 1 or 2");
  if (filters < 1 || filters > 4096) throw InputError("--filters must be in [1, 4096]");
  if (generators < 1 || generators > 256) throw InputError("--generators must be in [1, 256]");
  if (rank < 1 || rank > pixels()) throw InputError("--rank must be in [1, " + std::to_string(pixels()) + "] (pixels per image)");
  if (hidden < 0) throw InputError("--hidden must be >= 0");
  if (bottleneck < 0 || bottleneck > 1 << 16) throw InputError("--bottleneck must be in [0, 65536]");
  if (bottleneck > 0 && kind != "fc") throw InputError("--bottleneck is for the fc model");
  if (padding != "same" && padding != "valid") throw InputError("--padding must be same or valid, not " + padding);
  if (padding == "valid" && (kind != "cnn" || layers != 1 || height < 3 || width < 3))
    throw InputError("--padding valid is for a 1-layer cnn on images of at least 3x3 pixels");
  if (init != "he" && init != "glorot") throw InputError("--init must be he or glorot, not " + init);
}

nlohmann::json ImageArch::to_json() const {
  return {{"kind", kind},       {"height", height},   {"width", width},           {"channels", channels},
          {"classes", classes}, {"layers", layers},   {"filters", filters},       {"generators", generators},
          {"rank", rank},       {"hidden", hidden},   {"bottleneck", bottleneck}, {"padding", padding},
          {"init", init}};
}

ImageArch ImageArch::from_json(const nlohmann::json& j) {
  ImageArch a;
  try {
    a.kind = j.at("kind").get<std::string>();
    a.height = j.at("height").get<int>();
    a.width = j.at("width").get<int>();
    a.channels = j.at("channels").get<int>();
    a.classes = j.at("classes").get<int>();
    a.layers = j.at("layers").get<int>();
    a.filters = j.at("filters").get<int>();
    a.generators = j.at("generators").get<int>();
    a.rank = j.at("rank").get<int>();
    a.hidden = j.at("hidden").get<int>();
    a.bottleneck = j.value("bottleneck", 0);  // files before issue 16 have none of these three
    a.padding = j.value("padding", std::string("same"));
    a.init = j.value("init", std::string("he"));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the model architecture in the config is incomplete: ") + e.what());
  }
  a.validate();
  return a;
}

std::vector<double> to_stored(const ImageParam& p) {
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(p.value.size()));
  if (p.stored.size() == 3 && p.side_by_side) {
    const Index s = p.stored[0], r = p.stored[1], k = p.stored[2];
    for (Index i = 0; i < s; ++i)
      for (Index a = 0; a < r; ++a)
        for (Index b = 0; b < k; ++b) out.push_back(p.value(a, i * k + b));
  } else {  // 2-D, or 3-D with rows stacked: row-major of the internal matrix
    for (Index a = 0; a < p.value.rows(); ++a)
      for (Index b = 0; b < p.value.cols(); ++b) out.push_back(p.value(a, b));
  }
  return out;
}

Mat from_stored(const ImageParam& like, const std::vector<double>& d) {
  Mat m(like.value.rows(), like.value.cols());
  std::size_t t = 0;
  if (like.stored.size() == 3 && like.side_by_side) {
    const Index s = like.stored[0], r = like.stored[1], k = like.stored[2];
    for (Index i = 0; i < s; ++i)
      for (Index a = 0; a < r; ++a)
        for (Index b = 0; b < k; ++b) m(a, i * k + b) = d[t++];
  } else {
    for (Index a = 0; a < m.rows(); ++a)
      for (Index b = 0; b < m.cols(); ++b) m(a, b) = d[t++];
  }
  return m;
}

ImageModel ImageModel::init(const ImageArch& arch, Rng& rng) {
  arch.validate();
  ImageModel m;
  m.arch = arch;
  const Index hw = arch.pixels(), n = arch.generators, dh = arch.rank, f = arch.filters, k = arch.classes;
  const bool glorot = arch.init == "glorot";
  // A dense or convolution kernel (fan_in x fan_out): He normal, or Glorot uniform.
  auto kernel = [&](Index rows, Index cols, double fan_in, double fan_out) {
    return glorot ? uniform(rng, rows, cols, glorot_bound(fan_in, fan_out)) : randn(rng, rows, cols, std::sqrt(2.0 / fan_in));
  };
  using U64 = std::uint64_t;
  Index c = arch.channels;
  Index features = 0;
  if (arch.kind == "lconv" || arch.kind == "lconv-random") {
    for (int l = 1; l <= arch.layers; ++l) {
      const std::string p = "layer" + std::to_string(l) + ".";
      // he: U ~ N(0, 1/d_h), V ~ N(0, 1/HW), so that |L_i h| ~ |h|. glorot:
      // Keras's on the [n, HW, d_h] and [n, d_h, HW] tensors, |L_i h| ~ 0.025 |h|.
      const double gl = glorot_std(double(n * hw), double(n * dh));
      Mat uv = glorot ? truncated_randn(rng, hw, n * dh, gl) : randn(rng, hw, n * dh, 1.0 / std::sqrt(double(dh)));
      auto u = make(p + "U", std::move(uv), "symmetry", {U64(n), U64(hw), U64(dh)}, true);
      uv = glorot ? truncated_randn(rng, n * dh, hw, gl) : randn(rng, n * dh, hw, 1.0 / std::sqrt(double(hw)));
      auto v = make(p + "V", std::move(uv), "symmetry", {U64(n), U64(dh), U64(hw)});
      u.trainable = v.trainable = arch.kind == "lconv";
      m.params.push_back(std::move(u));
      m.params.push_back(std::move(v));
      Mat w = glorot ? truncated_randn(rng, (n + 1) * c, f, glorot_std(double((n + 1) * c), double((n + 1) * f)))
                     : randn(rng, (n + 1) * c, f, std::sqrt(2.0 / double((n + 1) * c)));
      m.params.push_back(make(p + "W", std::move(w), "weights", {U64(n + 1), U64(c), U64(f)}));
      m.params.push_back(make(p + "b", Mat::Zero(1, f), "weights", {1, U64(f)}));
      c = f;
    }
    features = hw * c;
  } else if (arch.kind == "cnn") {
    for (int l = 1; l <= arch.layers; ++l) {
      const std::string p = "layer" + std::to_string(l) + ".";
      m.params.push_back(make(p + "W", kernel(9 * c, f, double(9 * c), double(9 * f)), "weights", {9, U64(c), U64(f)}));
      m.params.push_back(make(p + "b", Mat::Zero(1, f), "weights", {1, U64(f)}));
      c = f;
    }
    features = (arch.padding == "valid" ? Index(arch.height - 2) * (arch.width - 2) : hw) * c;
  } else if (arch.kind == "fc") {
    Index d = hw * c;
    if (arch.bottleneck > 0) {
      const Index h = arch.bottleneck;
      m.params.push_back(make("bottleneck.W", kernel(d, h, double(d), double(h)), "weights", {U64(d), U64(h)}));
      m.params.push_back(make("bottleneck.b", Mat::Zero(1, h), "weights", {1, U64(h)}));
      d = h;
    }
    for (int l = 1; l <= arch.layers; ++l) {
      const std::string p = "layer" + std::to_string(l) + ".";
      m.params.push_back(make(p + "W", kernel(d, hw * f, double(d), double(hw * f)), "weights", {U64(d), U64(hw * f)}));
      m.params.push_back(make(p + "b", Mat::Zero(1, hw * f), "weights", {1, U64(hw * f)}));
      d = hw * f;
    }
    features = d;
  } else {  // fc-shallow
    Index h = arch.hidden;
    const Index d = hw * c;
    if (h == 0) {
      ImageArch like = arch;
      like.kind = "lconv";
      like.layers = 1;
      Rng unused(0);
      const long target = ImageModel::init(like, unused).count();
      h = std::max<Index>(1, (target - k) / (d + 1 + k));
      m.arch.hidden = static_cast<int>(h);
    }
    m.params.push_back(make("hidden.W", kernel(d, h, double(d), double(h)), "weights", {U64(d), U64(h)}));
    m.params.push_back(make("hidden.b", Mat::Zero(1, h), "weights", {1, U64(h)}));
    features = h;
  }
  Mat head = glorot ? uniform(rng, features, k, glorot_bound(double(features), double(k)))
                    : randn(rng, features, k, 1.0 / std::sqrt(double(features)));
  m.params.push_back(make("dense.W", std::move(head), "weights", {U64(features), U64(k)}));
  m.params.push_back(make("dense.b", Mat::Zero(1, k), "weights", {1, U64(k)}));
  return m;
}

long ImageModel::count() const {
  long n = 0;
  for (const auto& p : params) n += static_cast<long>(p.value.size());
  return n;
}

long ImageModel::trainable_count() const {
  long n = 0;
  for (const auto& p : params)
    if (p.trainable) n += static_cast<long>(p.value.size());
  return n;
}

int ImageModel::find(const std::string& name) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  return -1;
}

Mat images_to_columns(const Mat& x, int pixels, int channels) {
  const Index b = x.rows();
  // x(b, c + C p) = element b + B (c + C p) = (b + B c) + B C p: reshape to
  // (B C) x HW, then transpose.
  const Eigen::Map<const Mat> r(x.data(), b * channels, pixels);
  return r.transpose();
}

Var columns_to_features(const Var& a, Index batch) {
  const Index hw = a.rows(), c = a.cols() / batch;
  return ad::reshape(ad::transpose(a), batch, c * hw);
}

Var lconv_layer(const Var& a, const Var& u, const Var& v, const Var& w, const Var& b, int generators, Index batch) {
  const Index hw = a.rows(), c = a.cols() / batch, dh = u.cols() / generators;
  const Var va = ad::matmul(v, a);  // n*d_h x B*C
  std::vector<Var> terms = {ad::reshape(a, hw * batch, c)};
  for (int i = 0; i < generators; ++i) {
    const Var li_a = ad::matmul(ad::cols(u, i * dh, dh), ad::rows(va, i * dh, dh));  // HW x B*C
    terms.push_back(ad::reshape(li_a, hw * batch, c));
  }
  const Var y = ad::add_row(ad::matmul(ad::concat_cols(terms), w), b);  // HW*B x F
  return ad::reshape(y, hw, batch * w.cols());
}

std::vector<std::pair<int, int>> conv_offsets() {
  std::vector<std::pair<int, int>> o = {{0, 0}};
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if (dy != 0 || dx != 0) o.push_back({dy, dx});
  return o;
}

std::vector<Index> shift_index(int height, int width, int dy, int dx) {
  std::vector<Index> idx(std::size_t(height) * width, -1);
  for (int r = 0; r < height; ++r)
    for (int c = 0; c < width; ++c) {
      const int rr = r + dy, cc = c + dx;
      if (rr >= 0 && rr < height && cc >= 0 && cc < width) idx[std::size_t(r) * width + c] = Index(rr) * width + cc;
    }
  return idx;
}

Mat shift_matrix(int height, int width, int dy, int dx) {
  const std::vector<Index> idx = shift_index(height, width, dy, dx);
  Mat s = Mat::Zero(Index(height) * width, Index(height) * width);
  for (std::size_t p = 0; p < idx.size(); ++p)
    if (idx[p] >= 0) s(Index(p), idx[p]) = 1.0;
  return s;
}

std::vector<Index> interior_pixels(int height, int width) {
  std::vector<Index> idx;
  for (int r = 1; r + 1 < height; ++r)
    for (int c = 1; c + 1 < width; ++c) idx.push_back(Index(r) * width + c);
  return idx;
}

Var conv3x3_layer(const Var& a, int height, int width, const Var& w, const Var& b, Index batch) {
  const Index hw = a.rows(), c = a.cols() / batch;
  std::vector<Var> terms;
  for (const auto& [dy, dx] : conv_offsets())
    terms.push_back(ad::reshape(ad::gather_rows(a, shift_index(height, width, dy, dx)), hw * batch, c));
  const Var y = ad::add_row(ad::matmul(ad::concat_cols(terms), w), b);
  return ad::reshape(y, hw, batch * w.cols());
}

Var ImageModel::forward(const std::vector<Var>& p, const Mat& x) const {
  const Index batch = x.rows();
  const int hw = arch.pixels();
  std::size_t t = 0;
  Var feat;
  if (arch.kind == "lconv" || arch.kind == "lconv-random" || arch.kind == "cnn") {
    Var a = ad::constant(images_to_columns(x, hw, arch.channels));
    for (int l = 0; l < arch.layers; ++l) {
      if (arch.kind == "cnn") {
        a = ad::relu(conv3x3_layer(a, arch.height, arch.width, p[t], p[t + 1], batch));
        t += 2;
      } else {
        a = ad::relu(lconv_layer(a, p[t], p[t + 1], p[t + 2], p[t + 3], arch.generators, batch));
        t += 4;
      }
    }
    if (arch.padding == "valid") {
      // Keep the interior pixels' rows of a (HW x B*F), then flatten.
      a = ad::gather_rows(a, interior_pixels(arch.height, arch.width));
    }
    feat = columns_to_features(a, batch);
  } else {
    feat = ad::constant(x);
    const int dense_layers = static_cast<int>(p.size() / 2) - 1;
    for (int l = 0; l < dense_layers; ++l) {
      feat = ad::relu(ad::add_row(ad::matmul(feat, p[t]), p[t + 1]));
      t += 2;
    }
  }
  return ad::add_row(ad::matmul(feat, p[t]), p[t + 1]);
}

}  // namespace symlearn::images
