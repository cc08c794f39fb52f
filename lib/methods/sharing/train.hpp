// Learned parameter sharing (Yeh et al., AISTATS 2022) on a single dataset,
// by bi-level optimisation with implicit hypergradients (learn/bilevel.hpp):
//
//   inner  w*(A) = argmin_w  MSE_train(w; A) + (wd/2)‖w‖²      (Adam, warm-started)
//   outer  min_logits  MSE_val(w*(A); A) + α_H·H(A) + α_*·‖A‖_*,   A = row-softmax(logits)
//
// with H the mean row entropy (rows toward one-hot) and ‖·‖_* the nuclear
// norm (toward few groups). Each of --restarts random starts ends with the
// hard sharing (row argmax of A) and a final fit with it on train+val with
// early stopping on /hyper; the start with the lowest /hyper loss wins.
// The baselines fit once with a fixed A: the truth (oracle), I (none), or
// every position in one group (all: Deep Sets).
//
// gaussian-sharing: w = ψ and the inner problem has a closed form,
// ψ* = ((2/K) AᵀA + ρI)⁻¹ (2/K) Aᵀ x̄_train; the outer problem is the same.
#pragma once

#include "learn/adam.hpp"
#include "learn/bilevel.hpp"
#include "methods/sharing/data.hpp"
#include "methods/sharing/model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace symlearn::sharing {

// The shared bi-level and optimiser machinery this family builds on.
using learn::Adam;
using learn::as_params;
using learn::BilevelProblem;
using learn::hypergrad_from_name;
using learn::hypergrad_name;
using learn::Hypergradient;
using learn::hypergradient;
using learn::HypergradMethod;
using learn::HypergradOptions;
using learn::train_hvp;

// CG, 20 iterations, damping 0.1 (the ReLU model's Hessian is indefinite away from a strict minimum).
HypergradOptions default_hypergrad();

struct SharingOptions {
  // "symlearn" (this file's schedule) or "yeh2022" (the original's, yeh2022.hpp).
  std::string protocol = "symlearn";
  // Inner problem.
  int inner_warmup = 300;    // Adam steps before the first hypergradient
  int inner_steps = 20;      // Adam steps between hypergradients
  double inner_lr = 3e-3;
  double weight_decay = 1e-3;  // wd: L2 on the inner weights, part of the inner objective
  double ridge = 1e-4;         // ρ (gaussian-sharing)
  // Outer problem.
  int outer_steps = 60;
  double outer_lr = 0.5;
  double logit_init_std = 1.0;
  double entropy = 0.1;  // α_H
  double nuclear = 0.1;  // α_*
  double group_norm = 0;        // weight of Σ_j ‖A[:, j]‖₂ / L (yeh2022: 0.05)
  double logit_init_bound = 0;  // > 0: logits ~ U(−b, b) instead of N(0, std²) (yeh2022: 0.1)
  HypergradOptions hypergrad = default_hypergrad();
  int restarts = 3;
  // The discrete stage after learning (refine.hpp; yeh2022, sum-of-numbers).
  bool refine = false;
  double refine_tolerance = 0.02;   // a merge may cost this fraction of the val loss
  double refine_split_gain = 0.05;  // a split must gain more than this fraction
  // Final fit with the hard sharing.
  int final_steps = 3000;
  int eval_every = 25;
  int patience = 8;  // evaluations without improvement before stopping
  std::uint64_t seed = 0;

  nlohmann::json to_json() const;
  static SharingOptions from_json(const nlohmann::json& j);
  void validate() const;  // throws InputError naming the option
};

struct SharingLog {
  std::vector<double> outer_val_loss;   // the chosen start's validation loss per outer step
  std::vector<double> outer_entropy;    // its row entropy per outer step
  std::vector<double> final_hyper_loss; // its /hyper loss at each evaluation of the final fit
  std::vector<double> restart_loss;     // per start: the selection loss (/hyper, or /val for gaussian)
  std::vector<std::string> refine_steps;  // --refine: the merges and splits kept, in order
  int chosen = 0;
};

struct SharingModel {
  sharing::SharingArch arch;
  SharingOptions options;
  ad::Mat sharing;  // A (L x L): soft for `sharing`, the fixed one for the baselines
  ad::Mat logits;   // `sharing` only (empty otherwise)
  std::vector<ad::Mat> weights;  // fitted with the hard sharing; names from models::*_weight_names()
  double y_mean = 0, y_std = 1;  // sum-of-numbers: the model predicts standardised labels
  SharingLog log;
  double seconds = 0;

  ad::Mat hard() const { return sharing::hard_sharing(sharing); }
};

// Everything a training run reads from a tasks file.
struct SharingData {
  std::string kind;  // sum-of-numbers | gaussian-sharing
  SumSplit train, val, hyper;     // sum-of-numbers
  Eigen::MatrixXd gtrain, gval;   // gaussian-sharing
  Eigen::MatrixXd truth;          // /truth/sharing (needed by sharing-oracle)
  bool has_truth = false;
  int length() const;
};
SharingData load_sharing_data(const io::Reader& file, bool need_truth);

// Progress: (work done, total work, a short status).
using SharingProgress = std::function<void(long, long, const std::string&)>;

SharingModel train_sharing(const sharing::SharingArch& arch, const SharingOptions& options, const SharingData& data,
                           const SharingProgress& progress = {});

// Standardised-label predictions de-standardised: ŷ for every example of `x`.
Eigen::VectorXd predict_sum(const SharingModel& model, const SumSplit& x);

// Shared by both protocols: row-softmax of logits as a value; RunError if m
// is not finite (naming `what`).
ad::Mat softmax_value(const ad::Mat& logits);
void require_finite(const ad::Mat& m, const std::string& what);
// The outer penalty α_H H(A) + α_* ‖A‖_* + α_g Σ_j ‖A[:, j]‖ / L at A =
// row-softmax(logits), and its gradient in the logits.
double outer_penalty(const ad::Mat& logits, const SharingOptions& o, ad::Mat* gradient);
// Initial logits (length x length): N(0, std²), or U(−bound, bound) when bound > 0.
ad::Mat init_logits(int length, double stddev, double bound, Rng& rng);

// ψ_j = the mean over group j's coordinates (one-hot `hard`, K x K) of the
// coordinates' sample means of x (N x K); 0 for an empty group.
Eigen::VectorXd gaussian_group_means(const ad::Mat& hard, const Eigen::MatrixXd& x);

// The brute-force baseline of projects/GaussianSharing (sharing-brute, K <= 8):
// every set partition of the K coordinates as logits 5A − 2.5 (a soft A),
// ψ the soft-A-weighted group means of train, scored by the val MSE +
// 1e-2 · Σ_j ‖A[:, j]‖₂; the best one's one-hot A refitted on train ∪ val
// (the original's refit is not specified; ours is the learned model's).
SharingModel brute_force_gaussian(const sharing::SharingArch& arch, const SharingOptions& o, const SharingData& data);

// ψ* of the gaussian inner problem for sharing A on samples x (N x K).
Eigen::VectorXd gaussian_fit(const ad::Mat& a, const Eigen::MatrixXd& x, double ridge);

// The two problems, exposed for the hypergradient tests.
class SumSharingProblem : public BilevelProblem {
 public:
  // l1: mean |ŷ − y| on standardised labels instead of their MSE (yeh2022).
  SumSharingProblem(const sharing::SharingArch& arch, const SumSplit& train, const SumSplit& val, double y_mean,
                    double y_std, double weight_decay, bool l1 = false);
  ad::Var train_loss(const std::vector<ad::Var>& w, const ad::Var& logits) const override;
  ad::Var val_loss(const std::vector<ad::Var>& w, const ad::Var& logits) const override;
  // MSE (or L1) of standardised labels with a given (possibly constant) sharing.
  ad::Var loss(const std::vector<ad::Var>& w, const ad::Var& sharing, const SumSplit& split) const;
  // The same loss (plus (wd/2)‖w‖² when `with_decay`) and its gradient in
  // every weight for a fixed sharing, by a hand-written backward pass: the
  // inner problem's and the fits' thousands of steps, without a graph (unit
  // tests compare it with the autodiff).
  double loss_and_grad(const std::vector<ad::Mat>& w, const ad::Mat& sharing, const SumSplit& split,
                       bool with_decay, std::vector<ad::Mat>& grads) const;

 private:
  sharing::SharingArch arch_;
  const SumSplit& train_;
  const SumSplit& val_;
  double y_mean_, y_std_, weight_decay_;
  bool l1_;
};

class GaussianSharingProblem : public BilevelProblem {
 public:
  GaussianSharingProblem(const Eigen::MatrixXd& train, const Eigen::MatrixXd& val, double ridge);
  ad::Var train_loss(const std::vector<ad::Var>& w, const ad::Var& logits) const override;
  ad::Var val_loss(const std::vector<ad::Var>& w, const ad::Var& logits) const override;

 private:
  ad::Mat train_mean_, val_mean_;  // K x 1
  double ridge_;
};

}  // namespace symlearn::sharing
