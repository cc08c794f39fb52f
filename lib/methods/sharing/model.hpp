// Models whose weights are shared across positions by a sharing matrix A
// ("Equivariance Discovery by Learned Parameter-Sharing", Yeh et al. 2022):
// the weights of position p are θ_p = Σ_q A[p,q] ψ_q, A row-stochastic
// (A = row-softmax(logits) while learning, rows one-hot once decided).
//
// Sum of numbers (L tokens, each 1..V):
//   h     = Σ_p relu(W_p e(x_p) + b_p)      W_p = Σ_q A[p,q] Ψ_q (H x D), b_p = Σ_q A[p,q] β_q
//   ŷ     = w_outᵀ h + c                      e(v) = row v of the embedding E (V x D)
// Because W_p enters only through W_p Eᵀ and A mixes linearly, the mix is
// applied to Ψ_q Eᵀ (H x V each) rather than to the H x D matrices: the
// same function, L·H·V instead of L·H·D numbers to mix.
//
// Gaussian sharing (K coordinates): θ = A ψ, the estimated means.
#pragma once

#include "ad/ad.hpp"
#include "util/rng.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace symlearn::sharing {

// The kinds: how A is obtained (learned, or fixed for the baselines).
const std::vector<std::string>& sharing_kinds();  // sharing, sharing-oracle, sharing-none, sharing-all, sharing-brute

struct SharingArch {
  std::string kind = "sharing";
  std::string task = "sum-of-numbers";  // or "gaussian-sharing"
  int length = 0;                       // L positions (K coordinates for gaussian-sharing)
  int vocab = 9, embed = 500, hidden = 50;

  nlohmann::json to_json() const;
  static SharingArch from_json(const nlohmann::json& j);  // throws InputError
  void validate() const;                                  // throws InputError
  bool gaussian() const { return task == "gaussian-sharing"; }
};

// Sequences of tokens as one one-hot N x V matrix per position.
struct TokenBatch {
  long n = 0;
  std::vector<ad::Mat> onehot;  // L matrices, N x V
};
// tokens: row-major N x L, values 1..vocab (checked by the caller).
TokenBatch make_token_batch(const std::vector<long>& tokens, long n, int length, int vocab);

// Parameter names, in the order of the weight vectors below.
const std::vector<std::string>& sum_weight_names();      // embed, psi, beta, out_w, out_b
const std::vector<std::string>& gaussian_weight_names();  // psi

// Fresh weights: E ~ N(0,1), Ψ, β uniform ±1/√D, w_out uniform ±1/√H, c = 0.
// Ψ is stored as (L·H) x D with row q + L·h holding Ψ_q[h, :].
std::vector<ad::Mat> init_sum_weights(const SharingArch& arch, Rng& rng);

// Standardised predictions (N x 1) of the sum-of-numbers model.
ad::Var sum_forward(const SharingArch& arch, const std::vector<ad::Var>& w, const ad::Var& a, const TokenBatch& x);

// Row-wise one-hot of a's row argmax (ties: the first column).
ad::Mat hard_sharing(const ad::Mat& a);
std::vector<int> sharing_groups(const ad::Mat& a);  // the argmax column of each row

// The fixed sharings of the baselines, L x L.
ad::Mat identity_sharing(int length);  // sharing-none
ad::Mat all_sharing(int length);       // sharing-all: every row picks column 0 (Deep Sets)

// Entropy penalty: the mean over rows of −Σ_q A[p,q] log A[p,q] (0 when every row is one-hot).
ad::Var row_entropy(const ad::Var& a);

// Nuclear norm ‖A‖_* (sum of singular values) and its gradient U Vᵀ
// (A = U Σ Vᵀ, the thin SVD; a subgradient where singular values vanish).
double nuclear_norm(const ad::Mat& a, ad::Mat* gradient = nullptr);

}  // namespace symlearn::sharing
