// A fused meta-gradient for msr-fc with one inner step: the same numbers
// run_episode's autodiff computes (the unit tests compare them to 1e-10),
// written out by hand so that each task costs a few matrix-vector products on
// vectors that stay in cache, with no graph. It is what makes meta-train fast
// on the MSR paper's layer (README, Speed). The autodiff path handles every
// other model and setting, and `--engine autodiff` forces it.
//
// One inner step on task t, with W(v) = unvec(U v) (m x n), support (Xs, Ys),
// query (Xq, Yq), MSE losses L = |X W^T - Y|^2 / (N m):
//   a_t = vec(Gs_t),  Gs_t = 2/(Ns m) (Xs W0^T - Ys)^T Xs        (W0 = W(v0), shared)
//   g_t = U^T a_t,    v'_t = v0 - lr o g_t,    W'_t = unvec(U v'_t)
//   Gq_t = 2/(Nq m) (Xq W'_t^T - Yq)^T Xq,    h_t = U^T vec(Gq_t)  (= dLq/dv')
// The Hessian of the support loss in W is M = 2/(Ns m) (Xs^T Xs ⊗ I_m), so with
// z_t = lr o h_t and b_t = M U z_t = vec(2/(Ns m) unvec(U z_t) Xs^T Xs):
//   dLq/dlr = -h_t o g_t (summed over entries for one learned scalar)
//   dLq/dv0 = h_t - U^T b_t
//   dLq/dU  = vec(Gq_t) v'_t^T - a_t z_t^T - b_t v0^T
// First order drops the terms through g's dependence on U and v0 (U^T b_t,
// a_t z_t^T, b_t v0^T).
//
// maml-conv is the same layer with U fixed to the one-hot band
// (W[j, j+t] = f[t]), computed through its structure: a product with W is a
// 1-D convolution, U^T vec(.) a correlation. The kernels run in float or
// double; parameters and results stay double.
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

}  // namespace symlearn::msr
