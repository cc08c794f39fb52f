#include "methods/sharing/model.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>

namespace symlearn::sharing {

using ad::Mat;
using ad::Var;

const std::vector<std::string>& sharing_kinds() {
  static const std::vector<std::string> kinds = {"sharing", "sharing-oracle", "sharing-none", "sharing-all", "sharing-brute"};
  return kinds;
}

nlohmann::json SharingArch::to_json() const {
  nlohmann::json j = {{"kind", kind}, {"task", task}, {"length", length}};
  if (!gaussian()) {
    j["vocab"] = vocab;
    j["embed"] = embed;
    j["hidden"] = hidden;
  }
  return j;
}

SharingArch SharingArch::from_json(const nlohmann::json& j) {
  SharingArch a;
  try {
    a.kind = j.at("kind").get<std::string>();
    a.task = j.at("task").get<std::string>();
    a.length = j.at("length").get<int>();
    if (!a.gaussian()) {
      a.vocab = j.at("vocab").get<int>();
      a.embed = j.at("embed").get<int>();
      a.hidden = j.at("hidden").get<int>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("the model architecture in the config is incomplete: ") + e.what());
  }
  a.validate();
  return a;
}

void SharingArch::validate() const {
  const auto& kinds = sharing_kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw InputError("model " + kind + " is not a sharing model (sharing, sharing-oracle, sharing-none, sharing-all, sharing-brute)");
  if (task != "sum-of-numbers" && task != "gaussian-sharing")
    throw InputError("sharing models learn from sum-of-numbers or gaussian-sharing data, not " + task);
  if (length < 1) throw InputError("the sequence length must be >= 1");
  if (!gaussian() && (vocab < 1 || embed < 1 || hidden < 1))
    throw InputError("--embed and --hidden must be >= 1");
  // Refused before any work rather than tried until memory runs out.
  if (!gaussian() && (embed > 4096 || hidden > 4096))
    throw InputError("--embed and --hidden must be in [1, 4096] (got " + std::to_string(embed) + ", " +
                     std::to_string(hidden) + ")");
}

TokenBatch make_token_batch(const std::vector<long>& tokens, long n, int length, int vocab) {
  TokenBatch b;
  b.n = n;
  for (int p = 0; p < length; ++p) {
    Mat m = Mat::Zero(n, vocab);
    for (long i = 0; i < n; ++i) m(i, tokens[static_cast<std::size_t>(i * length + p)] - 1) = 1.0;
    b.onehot.push_back(std::move(m));
  }
  return b;
}

const std::vector<std::string>& sum_weight_names() {
  static const std::vector<std::string> names = {"embed", "psi", "beta", "out_w", "out_b"};
  return names;
}

const std::vector<std::string>& gaussian_weight_names() {
  static const std::vector<std::string> names = {"psi"};
  return names;
}

std::vector<Mat> init_sum_weights(const SharingArch& a, Rng& rng) {
  auto uniform = [&](long rows, long cols, double bound) {
    Mat m(rows, cols);
    for (long j = 0; j < cols; ++j)
      for (long i = 0; i < rows; ++i) m(i, j) = rng.uniform(-bound, bound);
    return m;
  };
  Mat embed(a.vocab, a.embed);
  for (long j = 0; j < embed.cols(); ++j)
    for (long i = 0; i < embed.rows(); ++i) embed(i, j) = rng.normal();
  const double in_bound = 1.0 / std::sqrt(static_cast<double>(a.embed));
  const double out_bound = 1.0 / std::sqrt(static_cast<double>(a.hidden));
  return {embed, uniform(static_cast<long>(a.length) * a.hidden, a.embed, in_bound), uniform(a.length, a.hidden, in_bound),
          uniform(a.hidden, 1, out_bound), Mat::Zero(1, 1)};
}

Var sum_forward(const SharingArch& a, const std::vector<Var>& w, const Var& sharing, const TokenBatch& x) {
  const int L = a.length, H = a.hidden, V = a.vocab;
  // M[(q,h), v] = Ψ_q[h,:] · E[v,:]; viewed as L x (H·V), row q is Ψ_q Eᵀ (column-major H x V).
  const Var m = ad::reshape(ad::matmul(w[1], ad::transpose(w[0])), L, H * V);
  const Var t = ad::matmul(sharing, m);        // row p: W_p Eᵀ, mixed
  const Var bias = ad::matmul(sharing, w[2]);  // row p: b_p
  Var h;
  for (int p = 0; p < L; ++p) {
    const Var tp = ad::reshape(ad::rows(t, p, 1), H, V);  // W_p Eᵀ
    const Var pre = ad::add_row(ad::matmul(ad::constant(x.onehot[static_cast<std::size_t>(p)]), ad::transpose(tp)),
                                ad::rows(bias, p, 1));
    const Var act = ad::relu(pre);
    h = p == 0 ? act : ad::add(h, act);
  }
  return ad::add(ad::matmul(h, w[3]), ad::broadcast(w[4], x.n, 1));
}

std::vector<int> sharing_groups(const Mat& a) {
  std::vector<int> g(static_cast<std::size_t>(a.rows()));
  for (long i = 0; i < a.rows(); ++i) {
    Eigen::Index j = 0;
    a.row(i).maxCoeff(&j);
    g[static_cast<std::size_t>(i)] = static_cast<int>(j);
  }
  return g;
}

Mat hard_sharing(const Mat& a) {
  Mat h = Mat::Zero(a.rows(), a.cols());
  const std::vector<int> g = sharing_groups(a);
  for (long i = 0; i < a.rows(); ++i) h(i, g[static_cast<std::size_t>(i)]) = 1.0;
  return h;
}

Mat identity_sharing(int length) { return Mat::Identity(length, length); }

Mat all_sharing(int length) {
  Mat a = Mat::Zero(length, length);
  a.col(0).setOnes();
  return a;
}

Var row_entropy(const Var& a) {
  // Only learned (softmax) sharings are penalised, and their entries are > 0.
  return ad::scale(ad::sum(ad::mul(a, ad::log(a))), -1.0 / static_cast<double>(a.rows()));
}

double nuclear_norm(const Mat& a, Mat* gradient) {
  Eigen::JacobiSVD<Mat> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  if (gradient) *gradient = svd.matrixU() * svd.matrixV().transpose();
  return svd.singularValues().sum();
}

}  // namespace symlearn::sharing
