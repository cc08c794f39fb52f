// Layers R^n -> R^m whose task-specific part is adapted by MAML's inner loop:
//
//   msr-fc     vec(W) = U v          U (mn x k) shared (role symmetry), v per task (init v0)
//   msr-kron   vec(W) = (U1 ⊗ U2) v  i.e. W = U2 unvec(v, k2, k1) U1^T, U1 (n x k1), U2 (m x k2)
//   maml-fc    W (m x n) per task
//   maml-lc    locally connected: W[j, j+t] = F[j, t], F (m x s) per task
//   maml-conv  a single 1-D convolution filter f (s) per task: W[j, j+t] = f[t]
//
// Predictions are P = X W^T for the N x n inputs X. vec is column-major.
// msr-fc and msr-kron with the ridge inner solver also have log_lambda (1 x 1, role hyper).
// msr-kron restricts W to rank <= min(k1, k2): it suits layers where mn*k is
// too large for a dense U, not data whose W must be full rank.
#pragma once

#include "ad/ad.hpp"
#include "learn/model_file.hpp"
#include "util/rng.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace symlearn::msr {

using learn::Role;

struct Param {
  std::string name;
  Role role;
  ad::Mat value;
};

// How the inner loop's learning rate is parameterised.
enum class LrMode { fixed, layer, param };  // constant; one learned per adapted tensor; one per entry
const char* lr_mode_name(LrMode mode);
LrMode lr_mode_from_name(const std::string& name);  // throws InputError

struct Arch {
  std::string kind;  // one of model_kinds()
  int input_dim = 0, output_dim = 0;
  int kernel = 3;    // maml-lc, maml-conv
  int latent = 0;    // msr-fc: k
  int kron_in = 0, kron_out = 0;  // msr-kron: k1 (input side), k2 (output side)
  LrMode lr_mode = LrMode::layer;
  double inner_lr = 0.1;  // initial (or, when fixed, constant) inner learning rate
  // How the task parameters are fitted on the support set: "sgd" (MAML's
  // inner steps) or, for msr-fc and msr-kron, "ridge": v* = argmin_v L_support(v) +
  // lambda |v - v0|^2 solved exactly, lambda learned (from ridge_lambda).
  std::string inner_solver = "sgd";
  double ridge_lambda = 0.01;
  bool ridge() const { return inner_solver == "ridge"; }

  nlohmann::json to_json() const;
  static Arch from_json(const nlohmann::json& j);  // throws InputError
  void validate() const;                          // throws InputError
};

const std::vector<std::string>& model_kinds();

class MetaModel {
 public:
  Arch arch;
  std::vector<Param> params;  // meta-parameters in a fixed order

  // Fresh parameters: U ~ N(0, u_std^2), v0 ~ N(0, (1/m)^2), plain weights
  // like a PyTorch layer's default (uniform +-1/sqrt(fan_in)).
  static MetaModel init(const Arch& arch, Rng& rng, double u_std = 0.01);
  // The parameters init() makes, by name, role and shape, in order; nothing
  // allocated (a loader checks a file's shapes against it before reading).
  struct Shape {
    std::string name;
    Role role;
    ad::Index rows, cols;
  };
  static std::vector<Shape> layout(const Arch& arch);

  // Indices (into params) of the tensors the inner loop adapts (role init),
  // and of the learned inner learning rate of each (-1 when fixed).
  std::vector<int> adapted() const;
  int inner_lr_of(int adapted_index) const;

  // Predictions (N x m) for x (N x n); p holds one Var per param, in order,
  // with the adapted ones replaced by their current fast weights.
  ad::Var forward(const std::vector<ad::Var>& p, const ad::Var& x) const;

  int find(const std::string& name) const;  // -1 if absent
  long count() const;                       // number of scalars in params
};

}  // namespace symlearn::msr
