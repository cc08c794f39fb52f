#include "methods/msr/models.hpp"

#include "util/error.hpp"

#include <cmath>

namespace symlearn::msr {

using ad::Mat;
using ad::Var;

const char* lr_mode_name(LrMode mode) {
  switch (mode) {
    case LrMode::fixed: return "fixed";
    case LrMode::layer: return "layer";
    case LrMode::param: return "param";
  }
  return "?";
}

LrMode lr_mode_from_name(const std::string& name) {
  if (name == "fixed") return LrMode::fixed;
  if (name == "layer") return LrMode::layer;
  if (name == "param") return LrMode::param;
  throw InputError("--inner-lr-mode must be fixed, layer or param (got '" + name + "')");
}

const std::vector<std::string>& model_kinds() {
  static const std::vector<std::string> kinds = {"msr-fc", "msr-kron", "maml-fc", "maml-lc", "maml-conv"};
  return kinds;
}

nlohmann::json Arch::to_json() const {
  nlohmann::json j = {{"kind", kind},       {"input_dim", input_dim}, {"output_dim", output_dim},
                      {"kernel", kernel},   {"lr_mode", lr_mode_name(lr_mode)}, {"inner_lr", inner_lr}};
  if (kind == "msr-fc") j["latent"] = latent;
  j["inner_solver"] = inner_solver;
  if (ridge()) j["ridge_lambda"] = ridge_lambda;
  if (kind == "msr-kron") {
    j["kron_in"] = kron_in;
    j["kron_out"] = kron_out;
  }
  return j;
}

Arch Arch::from_json(const nlohmann::json& j) {
  Arch a;
  try {
    a.kind = j.at("kind").get<std::string>();
    a.input_dim = j.at("input_dim").get<int>();
    a.output_dim = j.at("output_dim").get<int>();
    a.kernel = j.value("kernel", 3);
    a.latent = j.value("latent", 0);
    a.kron_in = j.value("kron_in", 0);
    a.kron_out = j.value("kron_out", 0);
    a.lr_mode = lr_mode_from_name(j.value("lr_mode", std::string("layer")));
    a.inner_lr = j.value("inner_lr", 0.1);
    a.inner_solver = j.value("inner_solver", std::string("sgd"));  // records before the option: MAML's
    a.ridge_lambda = j.value("ridge_lambda", 0.01);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the model's architecture record is incomplete: ") + e.what());
  }
  a.validate();
  return a;
}

void Arch::validate() const {
  bool known = false;
  for (const auto& k : model_kinds()) known = known || k == kind;
  if (!known) throw InputError("unknown model '" + kind + "' (expected msr-fc, msr-kron, maml-fc, maml-lc or maml-conv)");
  if (input_dim < 1 || output_dim < 1) throw InputError("model dimensions must be positive");
  if ((kind == "maml-lc" || kind == "maml-conv") && output_dim != input_dim - kernel + 1)
    throw InputError(kind + " with kernel " + std::to_string(kernel) + " maps " + std::to_string(input_dim) +
                     " inputs to " + std::to_string(input_dim - kernel + 1) + " outputs, but the data has " +
                     std::to_string(output_dim));
  if (kind == "msr-fc" && latent < 1) throw InputError("--latent must be at least 1");
  if (kind == "msr-kron" && (kron_in < 1 || kron_out < 1)) throw InputError("--kron-in and --kron-out must be at least 1");
  // Sizes that cannot fit are refused before any work (2^27 doubles = 1 GiB per matrix).
  constexpr double kMaxEntries = double(1 << 27);
  const double mn = double(input_dim) * double(output_dim);
  if (kind == "msr-fc" && latent > mn)
    throw InputError("--latent must be in [1, " + std::to_string(input_dim * output_dim) +
                     "] (more columns of U than entries of W add nothing)");
  if (kind == "msr-fc" && mn * latent > kMaxEntries)
    throw InputError("--latent " + std::to_string(latent) + " makes U " + std::to_string(input_dim * output_dim) +
                     " x " + std::to_string(latent) + ", over the limit of 2^27 entries (use a smaller --latent, or msr-kron)");
  if (kind == "msr-kron" && (kron_in > input_dim || kron_out > output_dim))
    throw InputError("--kron-in must be in [1, " + std::to_string(input_dim) + "] and --kron-out in [1, " +
                     std::to_string(output_dim) + "] (the layer's input and output dimensions)");
  if ((kind == "maml-lc" || kind == "maml-conv") && (kernel < 1 || kernel > input_dim))
    throw InputError("--kernel must be in [1, " + std::to_string(input_dim) + "]");
  if (kind == "maml-fc" && mn > kMaxEntries) throw InputError("the layer has over 2^27 weights");
  if (!(inner_lr >= 0) || !std::isfinite(inner_lr)) throw InputError("--inner-lr must be a finite number >= 0");
  if (inner_solver != "sgd" && inner_solver != "ridge")
    throw InputError("--inner-solver must be sgd or ridge, not '" + inner_solver + "'");
  if (ridge() && kind != "msr-fc" && kind != "msr-kron")
    throw InputError("--inner-solver ridge is implemented for msr-fc and msr-kron only");
  if (ridge() && !(ridge_lambda > 0 && ridge_lambda <= 1e6))
    throw InputError("--ridge-lambda must be in (0, 1e6]");
}

namespace {
Mat normal(Rng& rng, ad::Index r, ad::Index c, double std) {
  Mat m(r, c);
  for (ad::Index j = 0; j < c; ++j)
    for (ad::Index i = 0; i < r; ++i) m(i, j) = std * rng.normal();
  return m;
}
Mat uniform(Rng& rng, ad::Index r, ad::Index c, double bound) {
  Mat m(r, c);
  for (ad::Index j = 0; j < c; ++j)
    for (ad::Index i = 0; i < r; ++i) m(i, j) = rng.uniform(-bound, bound);
  return m;
}
}  // namespace

std::vector<MetaModel::Shape> MetaModel::layout(const Arch& arch) {
  arch.validate();
  const ad::Index n = arch.input_dim, m = arch.output_dim, s = arch.kernel;
  std::vector<Shape> out;
  if (arch.kind == "msr-fc") {
    out = {{"U", Role::symmetry, m * n, arch.latent}, {"v0", Role::init, arch.latent, 1}};
  } else if (arch.kind == "msr-kron") {
    out = {{"U1", Role::symmetry, n, arch.kron_in},
           {"U2", Role::symmetry, m, arch.kron_out},
           {"v0", Role::init, ad::Index(arch.kron_in) * arch.kron_out, 1}};
  } else if (arch.kind == "maml-fc") {
    out = {{"W0", Role::init, m, n}};
  } else if (arch.kind == "maml-lc") {
    out = {{"F0", Role::init, m, s}};
  } else {  // maml-conv
    out = {{"f0", Role::init, s, 1}};
  }
  if (arch.ridge()) {
    out.push_back({"log_lambda", Role::hyper, 1, 1});
  } else if (arch.lr_mode != LrMode::fixed) {
    const std::size_t adapted = out.size();
    for (std::size_t i = 0; i < adapted; ++i) {
      if (out[i].role != Role::init) continue;
      const bool layer = arch.lr_mode == LrMode::layer;
      out.push_back({"inner_lr_" + out[i].name, Role::hyper, layer ? 1 : out[i].rows, layer ? 1 : out[i].cols});
    }
  }
  return out;
}

MetaModel MetaModel::init(const Arch& arch, Rng& rng, double u_std) {
  MetaModel mm;
  mm.arch = arch;
  const double m = arch.output_dim, n = arch.input_dim, s = arch.kernel;
  for (const Shape& p : layout(arch)) {
    Mat value;
    if (p.name == "U") value = normal(rng, p.rows, p.cols, u_std);
    else if (p.name == "U1" || p.name == "U2") value = normal(rng, p.rows, p.cols, std::sqrt(u_std));
    else if (p.name == "v0") value = normal(rng, p.rows, p.cols, 1.0 / m);
    else if (p.name == "W0") value = uniform(rng, p.rows, p.cols, 1.0 / std::sqrt(n));
    else if (p.name == "F0" || p.name == "f0") value = uniform(rng, p.rows, p.cols, 1.0 / std::sqrt(s));
    // Learned in log space: it stays positive, and its scale is free.
    else if (p.name == "log_lambda") value = Mat::Constant(1, 1, std::log(arch.ridge_lambda));
    else value = Mat::Constant(p.rows, p.cols, arch.inner_lr);  // inner_lr_*
    mm.params.push_back({p.name, p.role, std::move(value)});
  }
  return mm;
}

std::vector<int> MetaModel::adapted() const {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(params.size()); ++i)
    if (params[i].role == Role::init) out.push_back(i);
  return out;
}

int MetaModel::inner_lr_of(int adapted_index) const {
  if (arch.lr_mode == LrMode::fixed || arch.ridge()) return -1;
  return find("inner_lr_" + params[adapted_index].name);
}

int MetaModel::find(const std::string& name) const {
  for (int i = 0; i < static_cast<int>(params.size()); ++i)
    if (params[i].name == name) return i;
  return -1;
}

long MetaModel::count() const {
  long n = 0;
  for (const auto& p : params) n += static_cast<long>(p.value.size());
  return n;
}

Var MetaModel::forward(const std::vector<Var>& p, const Var& x) const {
  const int n = arch.input_dim, m = arch.output_dim, s = arch.kernel;
  if (arch.kind == "msr-fc") {
    const Var w = ad::unvec(ad::matmul(p[0], p[1]), m, n);
    return ad::matmul(x, ad::transpose(w));
  }
  if (arch.kind == "msr-kron") {
    const Var v = ad::unvec(p[2], arch.kron_out, arch.kron_in);
    const Var w = ad::matmul(ad::matmul(p[1], v), ad::transpose(p[0]));
    return ad::matmul(x, ad::transpose(w));
  }
  if (arch.kind == "maml-fc") return ad::matmul(x, ad::transpose(p[0]));
  // Locally connected and convolution: P[:, j] = sum_t F[j, t] X[:, j + t].
  const ad::Index rows = x.rows();
  Var out;
  for (int t = 0; t < s; ++t) {
    const Var xt = ad::cols(x, t, m);
    const Var ft = arch.kind == "maml-lc" ? ad::repeat_rows(ad::transpose(ad::cols(p[0], t, 1)), rows)
                                          : ad::broadcast(ad::block(p[0], t, 0, 1, 1), rows, m);
    const Var term = ad::mul(xt, ft);
    out = t == 0 ? term : ad::add(out, term);
  }
  return out;
}

}  // namespace symlearn::msr
