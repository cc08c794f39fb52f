// Internals of the ad module, shared by graph.cpp and ops.cpp and used by the
// white-box unit tests. Not part of the public API.
#pragma once

#include "ad/ad.hpp"

#include <string>
#include <vector>

namespace symlearn::ad::detail {

// The result node of an op. Inputs and the backward rule are recorded only
// when grad mode is on and some input requires grad; otherwise the result is
// a plain constant, so no-grad evaluation builds no graph.
//
// The backward rule may capture the op's inputs (Vars) and plain values, but
// nothing else: Node's destructor relies on every captured Var also being in
// `inputs` to release long chains without recursion.
Var make_op(Mat value, const char* op, std::vector<Var> inputs, BackwardFn backward);

// Whether a backward rule should compute the gradient of input v: v requires
// grad and, during a grad() sweep, some requested x is reachable from v.
// Rules ask this instead of requires_grad() so that a sweep computes only
// what leads to the requested xs (MAML's inner step wants d/dv, not d/dU).
bool needs_grad(const Var& v);

// "[rows,cols]", for error messages.
std::string shape_str(Index rows, Index cols);
std::string shape_str(const Mat& m);

// op(a) * op(b), op = transpose where the flag is set. matmul and every
// product in a backward rule use it, so no transposed copies are made.
Var matmul_t(const Var& a, const Var& b, bool transpose_a, bool transpose_b);

// The two adjoints of C = kron(A, B), A m x n, B p x q,
// C[i*p+k, j*q+l] = A[i,j] * B[k,l]:
//   kron_grad_left(G, B)[i,j]  = sum_{k,l} G[i*p+k, j*q+l] * B[k,l]   (m x n)
//   kron_grad_right(G, A)[k,l] = sum_{i,j} G[i*p+k, j*q+l] * A[i,j]   (p x q)
// The result shape is passed explicitly so empty factors need no division.
Var kron_grad_left(const Var& g, const Var& b, Index m, Index n);
Var kron_grad_right(const Var& g, const Var& a, Index p, Index q);

}  // namespace symlearn::ad::detail
