// Bi-level optimisation with implicit hypergradients.
//
//   min_λ  F(λ) = L_val(w*(λ), λ)   with   w*(λ) = argmin_w L_train(w, λ)
//
// At an inner optimum ∇_w L_train = 0, so by the implicit function theorem
// dw*/dλ = −H⁻¹ ∂²L_train/∂w∂λ with H = ∂²L_train/∂w², and
//
//   dF/dλ = ∂L_val/∂λ − (∂²L_train/∂λ∂w) · H⁻¹ ∂L_val/∂w.
//
// The vector v = H⁻¹ ∂L_val/∂w is solved for with Hessian-vector products
// from the autodiff's double backward; the mixed term is the gradient in λ
// of <∇_w L_train, v>. Methods for v:
//   exact     — H assembled column by column from HVPs, then a dense solve
//               (small problems only: one HVP per inner parameter);
//   cg        — conjugate gradients on (H + δI) v = g;
//   neumann   — v = α Σ_{k<K} (I − αH)^k g, the truncated Neumann series
//               (Lorraine et al. 2020), needs α‖H‖ < 1; without the prefactor
//               (Yeh et al. 2022's code) v = Σ_{k=0}^{K} (I − αH)^k g, K + 1
//               terms, which for small α is about (K + 1) g;
//   identity  — H ≈ I, v = g (the cheapest, "T1−T2" style approximation).
#pragma once

#include "ad/ad.hpp"

#include <string>
#include <vector>

namespace symlearn::learn {

// The two losses of a bi-level problem as autodiff graphs of the inner
// parameters w and the hyperparameter λ (one matrix).
class BilevelProblem {
 public:
  virtual ~BilevelProblem() = default;
  virtual ad::Var train_loss(const std::vector<ad::Var>& w, const ad::Var& hyper) const = 0;
  virtual ad::Var val_loss(const std::vector<ad::Var>& w, const ad::Var& hyper) const = 0;
};

enum class HypergradMethod { exact, cg, neumann, identity };
const char* hypergrad_name(HypergradMethod m);
HypergradMethod hypergrad_from_name(const std::string& name);  // throws InputError

struct HypergradOptions {
  HypergradMethod method = HypergradMethod::cg;
  int iterations = 20;        // cg iterations / Neumann terms
  double tolerance = 1e-10;   // cg: stop when ‖r‖ <= tolerance · ‖g‖
  double damping = 0.0;       // δ added to H's diagonal (cg, exact)
  double neumann_alpha = 0.1; // α of the Neumann series
  bool neumann_prefactor = true;  // false: no α in front, K + 1 terms (Yeh et al. 2022)
  long exact_limit = 3000;    // refuse `exact` above this many inner parameters
};

struct Hypergradient {
  ad::Mat grad;               // dF/dλ
  double val_loss = 0;        // L_val at (w, λ)
  int iterations = 0;         // HVPs spent on v
  double relative_residual = 0;  // ‖(H + δI) v − g‖ / ‖g‖ (0 for identity: not computed)
};

// The hypergradient at inner parameters w (taken as the inner optimum) and λ.
Hypergradient hypergradient(const BilevelProblem& problem, const std::vector<ad::Mat>& w, const ad::Mat& hyper,
                            const HypergradOptions& options);

// Each matrix as a param leaf (differentiable inputs).
std::vector<ad::Var> as_params(const std::vector<ad::Mat>& w);

// H v for the train loss at (w, λ), for tests and diagnostics.
std::vector<ad::Mat> train_hvp(const BilevelProblem& problem, const std::vector<ad::Mat>& w, const ad::Mat& hyper,
                               const std::vector<ad::Mat>& v);

}  // namespace symlearn::learn
