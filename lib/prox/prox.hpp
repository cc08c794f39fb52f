// Proximal operators for structured sparsity of symmetry matrices, as used by
// "Meta-Learning Symmetries with sparse reparametrization" (its Algorithm 1:
// an outer gradient step on U, then U <- prox(U)).
//
// prox_{tΩ}(z) = argmin_w ½‖w − z‖² + t·Ω(w), with t = λ·s (s the step):
//   l1         Ω(w) = Σ|w_i|                       soft thresholding
//   group      Ω(w) = Σ_g ‖w_g‖₂                   w_g ← (1 − t/‖z_g‖₂)₊ z_g
//   exclusive  Ω(w) = ½ Σ_g (Σ_i |w_{g,i}|)²       exact, by sorting |z_g|
//   combined   Ω(w) = a Σ_g ‖w_g‖₂ + b ½ Σ_g ‖w_g‖₁²  (Yoon & Hwang 2017), exact
//              per group by a one-dimensional root search (see prox.cpp)
#pragma once

#include <Eigen/Dense>

#include <string>
#include <vector>

namespace symlearn::prox {

enum class Op { l1, group, exclusive, combined };
Op op_from_name(const std::string& name);  // throws InputError
const char* op_name(Op op);

struct Spec {
  Op op = Op::exclusive;
  double lambda = 0.0;          // λ
  double step = 1.0;            // s
  double group_weight = 1.0;    // combined: weight a of the group term
  double exclusive_weight = 1.0;  // combined: weight b of the exclusive term
};

// The proximal map of one group's vector z under `spec` (t = λ s).
Eigen::VectorXd prox_group(const Eigen::VectorXd& z, const Spec& spec);

// Group ids, one per entry of a matrix (column-major order, like vec), from 0.
using Groups = std::vector<long>;

// Applies the prox to every group of `w` in place (entries in no group: id < 0
// are left alone).
void apply(Eigen::MatrixXd& w, const Groups& groups, const Spec& spec);

// The objective's regulariser Ω(w) for the spec's op and weights (without λ).
double penalty(const Eigen::MatrixXd& w, const Groups& groups, const Spec& spec);

// Fraction of entries with |w| <= 1e-6 max|w| (1 for an all-zero matrix).
double sparsity(const Eigen::MatrixXd& w, double relative = 1e-6);

// Groupings of an msr-fc U ((m n) x k, row i + j m is entry W[i, j]):
//   input  — every entry producing W[:, j] (n groups)
//   output — every entry producing W[i, :] (m groups)
//   latent — a column of U (k groups)
//   row    — a row of U
// For other matrices only latent and row apply, and `input`/`output` mean
// rows (the factor's rows are input or output features for msr-kron).
Groups make_groups(const std::string& kind, Eigen::Index rows, Eigen::Index cols, int m);

}  // namespace symlearn::prox

namespace symlearn::prox {

// Group ids from a file: HDF5 (a dataset /groups, shape [rows, cols] or
// [rows]: one id per entry or per row) or text (whitespace-separated
// integers: rows*cols of them, row by row, or one per row). A negative id
// leaves an entry out of every group.
Groups load_groups(const std::string& path, Eigen::Index rows, Eigen::Index cols);

}  // namespace symlearn::prox
