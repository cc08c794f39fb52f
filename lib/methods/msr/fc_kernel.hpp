// msr-fc's meta-gradient for any number of inner SGD steps and for the ridge
// inner solver, by hand: the fused kernel behind meta-train msr-fc.
//
// Why it is cheap: W(v) = unvec(U v) is linear in v, so a task's support loss
//   Ls(v) = c |A v - b|^2,   c = 1/(Ns m),
// with A stacking P_s = [U_1 x_s, ..., U_k x_s] (m x k, U_j = unvec(U e_j))
// over the support examples and b the targets y_s, has the gradient
//   g(v) = H v - e,   H = 2c A^T A (k x k),   e = 2c A^T b.
// Every inner solver is then k x k algebra on (H, e, v0):
//   sgd (MAML, T steps, step sizes d):  v_{t+1} = v_t - d o (H v_t - e)
//   ridge:  v* = argmin Ls(v) + lambda |v - v0|^2 = (H/2 + lambda I)^{-1} (e/2 + lambda v0)
// and U enters only through P_s (forming H, e) and the query prediction
// W(v_T) x. With h = dLq/dv_T = U^T vec(Gq), Gq = 2/(Nq m) (Xq W^T - Yq)^T Xq,
// back-propagating through the k x k solver gives dv0, the step sizes' (or
// log lambda's) gradient, and Hbar = dLq/dH, ebar = dLq/de; then
//   dLq/dP_s = 2c (P_s (Hbar + Hbar^T) + y_s ebar^T) =: Z_s
//   dLq/dU   = vec(Gq) v_T^T + sum_s [column j: vec(Z_s[:, j] x_s^T)].
// sgd, second order, backwards from vbar = h:
//   dbar += -g_t o vbar,  Hbar -= (d o vbar) v_t^T,  ebar += d o vbar,  vbar -= H (d o vbar).
// First order treats each g_t as a constant: dv0 = h, dbar = -sum_t g_t o h, no
// Hbar or ebar. ridge, with mu = K^{-1} h, K = H/2 + lambda I:
//   dv0 = lambda mu,  dlog lambda = lambda mu . (v0 - v*),  Hbar = -mu v*^T / 2,  ebar = mu / 2.
// (With one step this is exactly the formulas MAML's autodiff computes; the
// unit tests check both solvers against the autodiff and finite differences.)
//
// The products with U (forming P_s, W(v_T), U^T vec(Gq), and the two updates
// of dU) are shared by the tasks of a chunk of 16, in float or double; the
// k x k algebra runs in double.
#pragma once

#include "methods/msr/fused.hpp"

#include <functional>

namespace symlearn::msr {

template <class S>
BatchResultOf<S> fc_fused_batch(const msr::MetaModel& model, const InnerLoop& inner, long count,
                                const std::function<tasks::EpisodeOf<S>(long)>& episode, int threads);

// The query loss after the ridge fit on e's support set (float64).
double fc_ridge_query_loss(const msr::MetaModel& model, const tasks::Episode& e);

}  // namespace symlearn::msr
