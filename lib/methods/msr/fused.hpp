// Fused meta-gradients: the same numbers run_episode's autodiff computes (the
// unit tests compare them to 1e-10), written out by hand with no graph, with
// the tasks of a meta-batch sharing their products. They are what makes
// meta-train fast on the MSR paper's layer (README, Speed); `--engine
// autodiff` forces the general path.
//
// msr-fc and msr-kron, any number of inner SGD steps or the ridge solver:
// fc_kernel.hpp, kron_kernel.hpp (their inner loop is k x k algebra, since
// W(v) is linear in v: inner_solve.hpp).
// maml-conv, one inner step: W[j, j+t] = f[t] is msr-fc with U fixed to the
// one-hot band, computed through its structure (a product with W is a 1-D
// convolution, U^T vec(.) a correlation), with the one-step formulas
//   g = U^T a, a = vec(2/(Ns m) (Xs W0^T - Ys)^T Xs),   f' = f0 - lr o g,
//   h = U^T vec(Gq),   dLq/dlr = -h o g,   dLq/df0 = h - U^T M U (lr o h),
// M = 2/(Ns m) (Xs^T Xs ⊗ I_m) the support loss's Hessian in W (first order
// drops the last term). The kernels run in float or double; parameters stay
// double.
#pragma once

#include "learn/precision.hpp"
#include "methods/msr/maml.hpp"

#include <functional>
#include <vector>

namespace symlearn::msr {

// Whether the fused path computes this model's meta-gradient.
bool fused_supported(const msr::MetaModel& model, const InnerLoop& inner);

// The mean query loss and meta-gradient of a meta-batch, the gradient in the
// precision it was computed in (float32 runs hand it to a float Adam as is).
template <class S>
struct BatchResultOf {
  double mean_loss = 0;
  std::vector<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> mean_grads;  // one per model param
};
using BatchResult = BatchResultOf<double>;

// Mean query loss and mean meta-gradient over `count` episodes made on
// demand by episode(t), on the worker threads (so that gathering them costs
// no extra parallel loop), computed in S = float or double.
template <class S>
BatchResultOf<S> msr_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                                 const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads);

// The same over a list of episodes (float64 or float32 arithmetic), in double.
BatchResult msr_fused_batch(const msr::MetaModel& model, const InnerLoop& inner,
                            const std::vector<tasks::Episode>& episodes, int threads,
                            learn::Precision precision = learn::Precision::float64);

// The query loss after the ridge fit on e's support set (msr-fc, msr-kron;
// float64): what eval and validation use for a ridge model (it has no
// autodiff graph).
double ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e);

}  // namespace symlearn::msr
