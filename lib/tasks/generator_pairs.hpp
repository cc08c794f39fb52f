// Generator discovery with a ground truth (Dehmamy et al. 2021, appendix C,
// with an interpolation whose generator is known exactly): pairs (x, G_t x)
// of random images (or 1-D signals) and the same turned by an angle t (or
// shifted by t pixels), fixed or drawn per pair from a range.
//
// G_t is Shannon-Whittaker interpolation on the periodic grid: the image's
// trigonometric interpolant (periodic sinc kernel K of period n: sin(pi s) /
// (n sin(pi s / n)) for odd n, sin(pi s) / (n tan(pi s / n)) for even n)
// sampled at the points that turn (or shift) onto the grid. Its derivative
// at t = 0 is the generator, exactly:
//   rotation (per radian): L = diag(dx) (D (x) I) - diag(dy) (I (x) D),
//   shift (per pixel):     L = -D,
// with D[i, j] = K'(i - j) the spectral differentiation matrix and (dx, dy)
// each pixel's offset from the image centre. A shift of a signal of odd
// length is exactly exp(t L); a rotation is not a one-parameter group on the
// grid (the turned interpolant is not band-limited), exp(t L) and G_t agree
// to second order in t (the unit tests measure how closely).
//
// The file written by write_generator_pairs():
//   /train/x, /train/y, /test/x, /test/y [1, N, d] float64   y = G_t x (+ noise)
//   /truth/generator [d, d]                               L (per radian, or per pixel)
//   /truth/train_amount, /truth/test_amount [N]           t of each pair (degrees, or pixels)
//   root attributes kind = "generator-pairs", transform, size, dim.
#pragma once

#include "io/h5.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace symlearn::tasks {

// D[i, j] = K'(i - j) for the periodic sinc kernel of period n.
Eigen::MatrixXd spectral_derivative(int n);
// The n x n (shift) or n^2 x n^2 (rotation, row-major pixels) operators.
Eigen::MatrixXd shift_operator(int n, double pixels);    // (G x)[p] = interpolant at p - pixels
Eigen::MatrixXd shift_generator(int n);                   // d/dt at 0
Eigen::MatrixXd rotation_operator(int n, double degrees); // counter-clockwise as displayed (rotate_image's convention)
Eigen::MatrixXd rotation_generator(int n);                // d/dt at 0, per radian

struct GeneratorPairsSpec {
  std::string transform = "rotation";  // rotation | shift (1-D)
  int size = 7;                        // image side, or signal length
  std::string signal = "noise";        // noise: i.i.d. N(0, 1) | smooth: band-limited (|frequency| <= size / 4)
  double amount = 5;                   // fixed t: degrees, or pixels
  double range_lo = 0, range_hi = 0;   // range_hi > range_lo: t ~ U(lo, hi) per pair instead
  long pairs = 2000, test_pairs = 500;
  double noise = 0;                    // std of Gaussian noise added to y
  std::uint64_t seed = 0;
  bool ranged() const { return range_hi > range_lo; }
  int dim() const { return transform == "rotation" ? size * size : size; }
  void validate() const;  // InputError
  nlohmann::json config() const;
};

void write_generator_pairs(const GeneratorPairsSpec& spec, io::Writer& out);

// A generator-pairs file in memory: columns are pairs.
struct GeneratorPairs {
  int dim = 0, size = 0;
  std::string transform;
  Eigen::MatrixXd x, y;  // d x N
};
GeneratorPairs load_generator_pairs(const io::Reader& file, const std::string& split);  // InputError
// /truth/generator (d x d), checked.
Eigen::MatrixXd load_true_generator(const io::Reader& file);

}  // namespace symlearn::tasks
