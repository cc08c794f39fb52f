// Discovering one Lie generator L from pairs y_i = G_{t_i} x_i (gen-tasks
// generator-pairs), with x_i, y_i the columns of X, Y (d x N):
//   lstsq: the closed-form map M = argmin |Y - M X| (ridge-stabilised), then
//          L = (M - I) / t (Dehmamy et al.'s appendix C estimate), the central
//          difference (M - M^-1) / 2t (error O(t^2) instead of O(t)), or log(M) / t;
//   spectral: t_i unknown per pair: L x_i must be parallel to d_i = y_i - x_i,
//          whatever t_i is; L is the top eigenvector of a linear operator
//          (discover.cpp), by power iteration: no local minima;
//   als:   t_i unknown per pair: alternate t_i = <L x_i, y_i - x_i> / |L x_i|^2
//          and L = (D T X^T)(X T^2 X^T)^-1 (D = Y - X, T = diag t), the
//          first-order model y = x + t_i L x; restarts from M - I and random L;
//   gd:    the L-conv-style model y = x + t_i L x (t_i = 1 for a fixed amount,
//          one learned t_i per pair for a range) by full-batch Adam from the
//          authors' small Glorot start.
#pragma once

#include "ad/ad.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::generators {

struct DiscoverOptions {
  std::string method = "spectral"; // lstsq | spectral | als | gd
  std::string estimate = "central";  // lstsq: difference (M - I) | central ((M - M^-1) / 2) | log (principal log of M)
  double amount = 1;               // lstsq: t the pairs were made with (only scales L)
  double ridge = 1e-6;             // relative to the mean eigenvalue of X X^T
  int iterations = 300;            // spectral: power iterations; als: alternations per start
  int restarts = 3;                // als: starts (the first from lstsq's M - I)
  double keep_smallest = 1;        // spectral: fit on this share of the pairs, those moved least
  bool per_pair = true;            // gd: one t_i per pair (false: y = x + L x)
  int steps = 2000;                // gd: Adam steps
  double lr = 1e-2;                // gd
  std::uint64_t seed = 0;
  void validate() const;  // InputError
};

struct Discovery {
  Eigen::MatrixXd generator;       // d x d
  Eigen::VectorXd amounts;         // als / gd per pair: the fitted t_i (empty for lstsq)
  std::vector<double> residual;    // relative residual |D - L X T|^2 / |D|^2 per iteration / step
  double final_residual = 0;
  int chosen_start = 0;            // als
};

Discovery discover_generator(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const DiscoverOptions& options);

// The relative residual of the first-order model with each t_i fitted by
// projection: sum_i |d_i - t_i L x_i|^2 / sum_i |d_i|^2, d_i = y_i - x_i.
double first_order_residual(const Eigen::MatrixXd& l, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y);

// |tr(A^T B)| / (|A| |B|).
double abs_cosine(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);
// The cosine of `truth` with its best approximation in span{generators}: |P truth| / |truth|.
double span_cosine(const std::vector<Eigen::MatrixXd>& generators, const Eigen::MatrixXd& truth);

// gd's loss through lib/ad (mean over pairs of |x_i + t_i L x_i - y_i|^2), so
// that it is checked against finite differences to second order; t is 1 x N.
ad::Var pair_loss(const ad::Var& l, const ad::Var& t, const ad::Mat& x, const ad::Mat& y);

}  // namespace symlearn::generators
