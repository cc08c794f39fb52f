// msr-kron's fused meta-gradient (any number of inner SGD steps, or the ridge fit): W =
// U2 unvec(v, k2, k1) U1^T is linear in v, so the inner loop is the k x k
// algebra of inner_solve.hpp with k = k1 k2. The support design of example
// x_s is P_s = t_s^T ⊗ U2 with t_s = U1^T x_s (column b + k2 a is t_s[a] U2[:, b]),
// and nothing of size m x n is formed: with rq = Xq U1 V^T U2^T - Yq and
// coef = 2/(Nq m),
//   h = dLq/dv = coef vec((rq U2)^T (Xq U1)),
//   dLq/dU2 = coef rq^T (Xq U1 V^T) + sum_s sum_a t_s[a] Z_s[:, block a],
//   dLq/dU1 = coef Xq^T (rq U2 V) + sum_s x_s dt_s^T,  dt_s[a] = <Z_s[:, block a], U2>,
// Z_s = dLq/dP_s from the solver's backward pass.
#pragma once

#include "methods/msr/fused.hpp"

#include <functional>

namespace symlearn::msr {

template <class S>
BatchResultOf<S> kron_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                                  const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads);

// The query loss after the ridge fit on e's support set (float64).
double kron_ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e);

}  // namespace symlearn::msr
