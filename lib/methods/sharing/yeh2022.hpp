// The original protocol of learned parameter sharing (Yeh et al., AISTATS
// 2022, the authors' projects/PermutationSharing), selected with
// `meta-train sharing --protocol yeh2022` (issue 15). What differs from
// symlearn's default schedule (train.hpp):
//   loss      L1 on labels standardised with the train ∪ val mean and std,
//             for the inner problem, the outer objective, early stopping and
//             selection;
//   starts    logits ~ U(−b, b), b = 0.1 (A ≈ uniform: a soft full sharing);
//             start 2 is start 1 negated, later starts fresh draws;
//             ψ Xavier-uniform as the [L, H, D] tensor;
//   inner     AdamW (lr 1e-3, decoupled decay 1e-3), full batch, warm-started,
//             250 steps per outer step, no L2 term in the objective;
//   hypergradient  Neumann, 20 iterations (21 terms), α = the current outer
//             learning rate, no α prefactor; its norm clipped at 25;
//   outer     Adam 1e-2, halved after 50 steps without improvement (from
//             step 30 on), at most 500 steps, stopped after 100 steps
//             without improvement of the validation L1; the logits of the
//             best validation step are kept;
//   penalty   α · (Σ_j ‖A[:, j]‖₂ / L + ½ · mean row entropy), α = 0.05 (the
//             original calls the first term a nuclear norm; it is a column
//             group norm);
//   selection per start: the hard sharing of its best logits refitted on
//             train (early stopping on val L1); the start with the lowest val
//             L1 wins and is retrained on train ∪ val (early stopping on
//             /hyper).
//
// On gaussian-sharing data (projects/GaussianSharing, its single loop): ψ_j
// is the A-weighted mean of the coordinates' train means, ψ = (x̄ᵀA) ⊘
// (1ᵀA + 1e-8), θ = A ψ; RMSprop (2e-2, L2 decay 1e-4) on the logits
// (N(0, 0.1²) at start) for 1000 iterations on the val MSE of θ plus
// 1e-2 · (Σ_j ‖A[:, j]‖₂ + mean row entropy); 3 starts, the lowest final
// penalised loss wins; its hard A is refitted on train ∪ val.
#pragma once

#include "methods/sharing/train.hpp"

#include <functional>
#include <string>

namespace symlearn::sharing {

// Σ_j ‖A[:, j]‖₂ / L (L = rows), and its gradient A[:, j] / (L ‖A[:, j]‖₂)
// (zero for a zero column: a subgradient).
double column_group_norm(const ad::Mat& a, ad::Mat* gradient = nullptr);

// PyTorch's ReduceLROnPlateau (mode min, relative threshold 1e-4) that only
// starts counting after `start` steps.
struct Plateau {
  double factor = 0.5;
  int patience = 50, start = 30;
  double best = 0;
  int bad = 0, steps = 0;
  bool seen = false;
  // One step with this step's loss; returns the learning rate to use next.
  double step(double loss, double lr);
};

// The mean and std (population) of the labels of train ∪ val.
std::pair<double, double> joint_label_stats(const SumSplit& train, const SumSplit& val);

// ψ Xavier-uniform as PyTorch initialises an [L, H, D] tensor: bound
// sqrt(6 / (H·D + L·D)), in this model's (L·H) x D layout.
ad::Mat xavier_psi(const SharingArch& arch, Rng& rng);

// The preset: options a user did not set (given(name) false for the option's
// flag, e.g. "--outer-lr") take the original's values, those of
// projects/GaussianSharing for gaussian-sharing data of dimension `length`.
void apply_yeh2022_defaults(SharingOptions& o, bool gaussian, int length,
                            const std::function<bool(const std::string&)>& given);

// The RMSprop step PyTorch takes (alpha 0.99, eps 1e-8, L2 `decay` added to
// the gradient): v = αv + (1−α)g², p −= lr g / (√v + eps).
struct RmsProp {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, decay = 0;
  ad::Mat v;
  void update(ad::Mat& p, ad::Mat g);
};

// --refine on sum-of-numbers: the parent partition's fitted weights carried
// to a merge or split of it, where each new group's ψ and β are the mean over
// its positions of their parent group's (a split copies: the same function).
std::vector<ad::Mat> carried_weights(const SharingArch& arch, const std::vector<ad::Mat>& parent_w,
                                     const std::vector<int>& parent, const std::vector<int>& candidate);

SharingModel train_yeh2022(const SharingArch& arch, const SharingOptions& o, const SharingData& data,
                           const SharingProgress& progress);

}  // namespace symlearn::sharing
