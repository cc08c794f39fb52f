// The ridge inner solver for msr-fc (`--inner-solver ridge`): instead of
// MAML's gradient step, each task's parameters are the exact minimiser
//   v* = argmin_v  c |A v - b|^2 + lambda |v - v0|^2,      c = 1/(Ns m),
// i.e. the support MSE plus a pull towards v0. A stacks W(v) x_s = P_s v over
// the support examples (column j of P_s is U_j x_s, U_j = unvec(U e_j)) and b
// the targets y_s, so v* solves the k x k system
//   K v* = c A^T b + lambda v0,      K = c A^T A + lambda I.
// With one support example and U the true convolution sharing, A has 68 rows
// for k = 3 unknowns: the filter is determined exactly, where one SGD step
// leaves MAML at a floor (issue 14).
//
// The meta-gradient by implicit differentiation of the system: with the
// query gradient h = dLq/dv* = U^T vec(Gq) (Gq as in fused.hpp) and
// mu = K^{-1} h,
//   dLq/dv0         = lambda mu
//   dLq/dlog lambda = lambda mu . (v0 - v*)
//   dLq/dU          = vec(Gq - c sum_s (P_s mu) x_s^T) v*^T
//                     - c vec(sum_s (P_s v* - y_s) x_s^T) mu^T.
// lambda is learned as log_lambda. The k x k solves run in double whatever
// the kernel's precision (K's conditioning follows lambda).
#pragma once

#include "methods/msr/fused.hpp"

#include <functional>

namespace symlearn::msr {

// The query loss after the ridge fit on e's support set (float64).
double ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e);

// Mean query loss and meta-gradient over `count` episodes, as msr_fused_batch.
template <class S>
BatchResultOf<S> ridge_fused_batch(const msr::MetaModel& model, long count,
                                   const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads);

}  // namespace symlearn::msr
