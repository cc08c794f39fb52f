#include "methods/lgn/network.hpp"

#include "util/error.hpp"
#include "util/rng.hpp"

#include <cmath>

namespace symlearn::lgn {

namespace {

constexpr double kBnEps = 1e-5, kBnMomentum = 0.1;  // PyTorch's BatchNorm2d defaults, as the authors use

Mat gaussian(Rng& rng, long rows, long cols) {
  Mat m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = rng.normal();
  return m;
}

// Each consecutive `slice` entries of every column scaled to unit norm (a
// filter per channel, or a whole action matrix).
void unit_slices(Mat& m, long slice) {
  for (Eigen::Index c = 0; c < m.cols(); ++c)
    for (Eigen::Index r = 0; r + slice <= m.rows(); r += slice) {
      auto s = m.col(c).segment(r, slice);
      const double n = s.norm();
      if (n > 0) s /= n;
    }
}

void unit_matrix(Mat& m) {
  const double n = m.norm();
  if (n > 0) m /= n;
}

}  // namespace

void LgnArch::validate() const {
  if (kind != "lgn" && kind != "lgn-free" && kind != "lgn-recon") throw InputError("unknown LGN model " + kind);
  auto in = [](const char* what, long v, long lo, long hi) {
    if (v < lo || v > hi)
      throw InputError(std::string(what) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                       std::to_string(v));
  };
  in("--layers", layers, 1, 64);
  in("--groups", groups, 1, 256);
  in("--order", order, 1, 64);
  in("--kernel", kernel, 1, 16);
  in("--padding", padding, 0, 16);
  in("--pool", pool, 1, 64);
  in("image height", height, 1, 4096);
  in("image width", width, 1, 4096);
  in("image channels", channels, 1, 64);
  if (!reconstruction()) in("classes", classes, 2, 100000);
  if (out_height() < 1 || out_width() < 1)
    throw InputError("a " + std::to_string(kernel) + "x" + std::to_string(kernel) + " kernel with padding " +
                     std::to_string(padding) + " does not fit " + std::to_string(height) + "x" + std::to_string(width) +
                     " images");
  if (pool > out_height() || pool > out_width()) throw InputError("--pool is larger than the code's feature map");
  if (!(eta > 0) || !std::isfinite(eta)) throw InputError("--eta must be a positive number");
  if (inverse != "invertibility" && inverse != "singular" && inverse != "none")
    throw InputError("--inverse-loss must be invertibility, singular or none");
  if (long(filters()) * dim() * channels > 4'000'000) throw InputError("the dictionary is absurdly large");
}

nlohmann::json LgnArch::to_json() const {
  return {{"kind", kind},     {"height", height}, {"width", width}, {"channels", channels}, {"classes", classes},
          {"layers", layers}, {"groups", groups}, {"order", order}, {"kernel", kernel},     {"padding", padding},
          {"pool", pool},     {"eta", eta},       {"inverse", inverse}, {"vec", "row-major"}};
}

LgnArch LgnArch::from_json(const nlohmann::json& j) {
  LgnArch a;
  try {
    a.kind = j.at("kind").get<std::string>();
    a.height = j.at("height").get<int>();
    a.width = j.at("width").get<int>();
    a.channels = j.at("channels").get<int>();
    a.classes = j.at("classes").get<int>();
    a.layers = j.at("layers").get<int>();
    a.groups = j.at("groups").get<int>();
    a.order = j.at("order").get<int>();
    a.kernel = j.at("kernel").get<int>();
    a.padding = j.at("padding").get<int>();
    a.pool = j.at("pool").get<int>();
    a.eta = j.at("eta").get<double>();
    a.inverse = j.at("inverse").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("its architecture record is incomplete (") + e.what() + ")");
  }
  a.validate();
  return a;
}

LgnModel LgnModel::init(const LgnArch& a, std::uint64_t seed) {
  a.validate();
  Rng rng(seed, 17);
  LgnModel m;
  m.arch = a;
  const long d = a.dim(), c = a.channels, f = a.filters(), k = a.groups;
  for (int l = 0; l < a.layers; ++l) {
    Layer y;
    y.basis = gaussian(rng, d * c, a.structured() ? k : f);
    unit_slices(y.basis, d);
    if (a.structured()) {
      for (long j = 0; j < k * c; ++j) {
        y.action.push_back(gaussian(rng, d, d));
        unit_matrix(y.action.back());
      }
      if (a.inverse == "invertibility")
        for (long j = 0; j < k * c; ++j) {
          y.action_inv.push_back(gaussian(rng, d, d));
          unit_matrix(y.action_inv.back());
        }
    }
    y.threshold = Mat::Ones(1, f);
    if (!a.reconstruction() && l + 1 < a.layers) {
      y.bn_gamma = Mat::Ones(1, f);
      y.bn_beta = Mat::Zero(1, f);
      y.bn_mean = Mat::Zero(1, f);
      y.bn_var = Mat::Ones(1, f);
    }
    m.layers.push_back(std::move(y));
  }
  if (a.reconstruction()) {
    m.decoder = gaussian(rng, d * c, f);
    unit_slices(m.decoder, d);
  } else {
    // PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    const long in = long(a.pool) * a.pool * f;
    const double bound = 1 / std::sqrt(double(in));
    m.fc_weight.resize(in, a.classes);
    m.fc_bias.resize(1, a.classes);
    for (Eigen::Index i = 0; i < m.fc_weight.size(); ++i) m.fc_weight.data()[i] = bound * (2 * rng.uniform() - 1);
    for (Eigen::Index i = 0; i < m.fc_bias.size(); ++i) m.fc_bias.data()[i] = bound * (2 * rng.uniform() - 1);
  }
  return m;
}

std::vector<std::pair<std::string, Mat*>> LgnModel::trainable() {
  std::vector<std::pair<std::string, Mat*>> out;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    Layer& y = layers[l];
    const std::string p = "layer" + std::to_string(l) + "_";
    out.push_back({p + (arch.structured() ? "basis" : "filters"), &y.basis});
    for (std::size_t j = 0; j < y.action.size(); ++j) out.push_back({p + "action_" + std::to_string(j), &y.action[j]});
    for (std::size_t j = 0; j < y.action_inv.size(); ++j)
      out.push_back({p + "action_inv_" + std::to_string(j), &y.action_inv[j]});
    out.push_back({p + "threshold", &y.threshold});
    if (y.bn_gamma.size()) {
      out.push_back({p + "bn_gamma", &y.bn_gamma});
      out.push_back({p + "bn_beta", &y.bn_beta});
    }
  }
  if (arch.reconstruction()) {
    out.push_back({"decoder", &decoder});
  } else {
    out.push_back({"fc_weight", &fc_weight});
    out.push_back({"fc_bias", &fc_bias});
  }
  return out;
}

long LgnModel::count() {
  long n = 0;
  for (auto& [name, p] : trainable()) n += p->size();
  return n;
}

void project(LgnModel& m, const Projection& p) {
  const long d = m.arch.dim();
  for (Layer& y : m.layers) {
    unit_slices(y.basis, d);
    if (p.actions)
      for (Mat& a : y.action) unit_matrix(a);
  }
  if (m.decoder.size()) unit_slices(m.decoder, d);
}

const BatchMaps& batch_maps(const LgnArch& a, long batch, std::map<long, BatchMaps>& cache) {
  auto it = cache.find(batch);
  if (it != cache.end()) return it->second;
  BatchMaps m;
  m.batch = batch;
  const long h = a.height, w = a.width, ho = a.out_height(), wo = a.out_width(), k = a.kernel;
  const long n = batch * ho * wo;
  auto map = std::make_shared<ad::ConvMap>();
  map->offsets = k * k;
  map->outputs = n;
  map->inputs = batch * h * w;
  map->index.assign(std::size_t(k * k * n), -1);
  for (long ky = 0; ky < k; ++ky)
    for (long kx = 0; kx < k; ++kx) {
      Eigen::Index* out = map->index.data() + (ky * k + kx) * n;
      for (long b = 0; b < batch; ++b)
        for (long oy = 0; oy < ho; ++oy) {
          const long y = oy + ky - a.padding;
          for (long ox = 0; ox < wo; ++ox) {
            const long x = ox + kx - a.padding;
            if (y >= 0 && y < h && x >= 0 && x < w) out[(b * ho + oy) * wo + ox] = (b * h + y) * w + x;
          }
        }
    }
  m.conv = map;
  // Adaptive average pooling (PyTorch's bins: [floor(i H / P), ceil((i + 1) H / P))).
  std::vector<Eigen::Triplet<double>> t;
  const long p = a.pool;
  for (long by = 0; by < p; ++by)
    for (long bx = 0; bx < p; ++bx) {
      const long y0 = by * ho / p, y1 = ((by + 1) * ho + p - 1) / p;
      const long x0 = bx * wo / p, x1 = ((bx + 1) * wo + p - 1) / p;
      const double v = 1.0 / double((y1 - y0) * (x1 - x0));
      for (long b = 0; b < batch; ++b)
        for (long y = y0; y < y1; ++y)
          for (long x = x0; x < x1; ++x) t.emplace_back((by * p + bx) * batch + b, (b * ho + y) * wo + x, v);
    }
  Eigen::SparseMatrix<double, Eigen::RowMajor> s(p * p * batch, n);
  s.setFromTriplets(t.begin(), t.end());
  m.pool = std::make_shared<const ad::SparseMap>(std::move(s));
  return cache.emplace(batch, std::move(m)).first->second;
}

ad::Var conv(const ad::Var& x, const ad::Var& w, const LgnArch&, const BatchMaps& m) {
  return ad::conv_map(x, w, m.conv);
}

ad::Var conv_transpose(const ad::Var& u, const ad::Var& w, const LgnArch&, const BatchMaps& m) {
  return ad::conv_map_transpose(u, w, m.conv);
}

ad::Var group_filters(const ad::Var& basis, const std::vector<ad::Var>& action, const LgnArch& a) {
  const long d = a.dim(), c = a.channels, k = a.groups;
  // orbit[g][ch][e] = A_{g,ch}^e b_{g,ch}
  std::vector<ad::Var> columns(std::size_t(a.filters()));
  for (long g = 0; g < k; ++g) {
    std::vector<std::vector<ad::Var>> per_power(std::size_t(a.order));
    for (long ch = 0; ch < c; ++ch) {
      ad::Var v = ad::block(basis, ch * d, g, d, 1);
      for (long e = 0; e < a.order; ++e) {
        if (e > 0) v = ad::matmul(action[std::size_t(g * c + ch)], v);
        per_power[std::size_t(e)].push_back(v);
      }
    }
    for (long e = 0; e < a.order; ++e)
      columns[std::size_t(e * k + g)] = c == 1 ? per_power[std::size_t(e)][0] : ad::concat_rows(per_power[std::size_t(e)]);
  }
  return ad::concat_cols(columns);
}

ad::Var batch_norm(const ad::Var& z, const ad::Var& gamma, const ad::Var& beta, double eps, Mat* mean, Mat* var) {
  const double n = double(z.rows());
  const ad::Var mu = ad::scale(ad::col_sums(z), 1 / n);
  const ad::Var centred = ad::add_row(z, ad::neg(mu));
  const ad::Var v = ad::scale(ad::col_sums(ad::square(centred)), 1 / n);
  const ad::Var inv_std = ad::exp(ad::scale(ad::log(ad::add_scalar(v, eps)), -0.5));
  if (mean) *mean = mu.value();
  if (var) *var = v.value();
  return ad::add_row(ad::mul(centred, ad::repeat_rows(ad::mul(inv_std, gamma), z.rows())), beta);
}

ad::Var frobenius(const ad::Var& a) { return ad::exp(ad::scale(ad::log(ad::sum(ad::square(a))), 0.5)); }

ad::Var action_penalty(const std::vector<ad::Var>& action, const std::vector<ad::Var>& action_inv,
                       const std::string& kind, double mu) {
  ad::Var total = ad::scalar(0.0);
  if (kind == "none" || mu == 0 || action.empty()) return total;
  for (std::size_t j = 0; j < action.size(); ++j) {
    if (kind == "invertibility") {
      const long d = action[j].rows();
      total = ad::add(total, frobenius(ad::sub(ad::matmul(action[j], action_inv[j]), ad::constant(Mat::Identity(d, d)))));
    } else {  // singular: - sum of singular values
      total = ad::sub(total, ad::nuclear_norm(action[j]));
    }
  }
  return ad::scale(total, mu);
}

ForwardOut forward(LgnModel& m, const std::vector<ad::Var>& params, const ad::Var& x, long batch, bool training,
                   double mu, std::map<long, BatchMaps>& cache, bool update_running) {
  const LgnArch& a = m.arch;
  const BatchMaps& maps = batch_maps(a, batch, cache);
  const long n = batch * a.out_height() * a.out_width(), f = a.filters();
  std::size_t next = 0;
  auto take = [&]() -> const ad::Var& { return params.at(next++); };

  ad::Var u_old = ad::constant(Mat::Zero(n, f)), u_tmp = u_old, penalty = ad::scalar(0.0);
  double t = 1;
  for (int l = 0; l < a.layers; ++l) {
    Layer& y = m.layers[std::size_t(l)];
    const ad::Var basis = take();
    std::vector<ad::Var> action, action_inv;
    for (std::size_t j = 0; j < y.action.size(); ++j) action.push_back(take());
    for (std::size_t j = 0; j < y.action_inv.size(); ++j) action_inv.push_back(take());
    const ad::Var threshold = take();
    const ad::Var w = a.structured() ? group_filters(basis, action, a) : basis;
    if (a.structured()) penalty = ad::add(penalty, action_penalty(action, action_inv, a.inverse, mu));

    // The first layer starts from u = 0: its residual is x itself.
    const ad::Var r = l == 0 ? x : ad::sub(x, conv_transpose(u_tmp, w, a, maps));
    const ad::Var pre = ad::add(u_tmp, ad::scale(conv(r, w, a, maps), a.eta));
    const ad::Var u_new = ad::relu(ad::add_row(pre, ad::scale(threshold, -a.eta)));
    const double t_new = (1 + std::sqrt(1 + 4 * t * t)) / 2;
    u_tmp = l == 0 ? u_new : ad::add(u_new, ad::scale(ad::sub(u_new, u_old), (t - 1) / t_new));
    if (y.bn_gamma.size()) {
      const ad::Var gamma = take(), beta = take();
      if (training) {
        Mat bm, bv;
        u_tmp = batch_norm(u_tmp, gamma, beta, kBnEps, &bm, &bv);
        if (update_running) {
          const double unbiased = double(n) / double(std::max<long>(n - 1, 1));
          y.bn_mean = (1 - kBnMomentum) * y.bn_mean + kBnMomentum * bm;
          y.bn_var = (1 - kBnMomentum) * y.bn_var + kBnMomentum * unbiased * bv;
        }
      } else {
        const Mat inv = (y.bn_var.array() + kBnEps).rsqrt().matrix();
        const ad::Var centred = ad::add_row(u_tmp, ad::constant(-y.bn_mean));
        u_tmp = ad::add_row(ad::mul(centred, ad::repeat_rows(ad::mul(ad::constant(inv), gamma), n)), beta);
      }
    }
    u_old = u_new;
    t = t_new;
  }
  ForwardOut out;
  out.code = u_old;
  out.penalty = penalty;
  if (a.reconstruction()) {
    out.output = conv_transpose(u_old, take(), a, maps);
  } else {
    const ad::Var weight = take(), bias = take();
    // (pool^2 B x F), rows bin*B + b, reshaped column-major to B x (F pool^2): PyTorch's flatten order f*pool^2 + bin.
    const ad::Var pooled = ad::reshape(ad::sparse_matmul(maps.pool, u_old), batch, long(a.pool) * a.pool * f);
    out.output = ad::add_row(ad::matmul(pooled, weight), bias);
  }
  return out;
}

Mat image_rows(const ImageRows& images, long first, long n, int channels) {
  const long pixels = images.cols() / channels;
  Mat x(n * pixels, channels);
  for (long b = 0; b < n; ++b)
    for (long p = 0; p < pixels; ++p)
      for (int c = 0; c < channels; ++c) x(b * pixels + p, c) = images(first + b, p * channels + c);
  return x;
}

Mat LgnModel::filters(int layer) const {
  const Layer& y = layers.at(std::size_t(layer));
  if (!arch.structured()) return y.basis;
  ad::NoGradGuard guard;
  std::vector<ad::Var> action;
  for (const Mat& m : y.action) action.push_back(ad::constant(m));
  return group_filters(ad::constant(y.basis), action, arch).value();
}

}  // namespace symlearn::lgn
