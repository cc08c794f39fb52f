// inspect-symmetry on an L-conv model (models kind lconv / lconv-random):
// the learned generators L_i = U_i V_i of every layer (HW x HW, acting on the
// flattened pixel index) and their structure:
// - closure of their commutators within their span (commutator_closure);
// - sparsity (share of entries below 1e-3 of the largest);
// - how shift-like they are: the share of ||L||^2 on pixel pairs at most one
//   step apart (the 3x3 neighbourhood; a random matrix has about 9/HW), and
//   the share captured by the span of the nine 3x3 shift operators. With a
//   tasks file whose /truth/permutation scrambled the pixels, L is first
//   taken back to image coordinates: L' = P^T L P;
// - with the tasks file, following the paper's analysis of linear
//   regression: how much of L_i lies in the covariance-preserving algebra
//   H^{1/2} so(d) H^{-1/2} of the training inputs (H their covariance,
//   regularised by 1e-3 of its mean eigenvalue): the skew share
//   ||skew(L~)||^2 / ||L~||^2 of L~ = H^{-1/2} L H^{1/2} (1 inside the algebra,
//   about 1/2 for a random matrix).
#pragma once

#include "analysis/symmetry_scores.hpp"
#include "io/h5.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace symlearn::images {

struct LconvGenerator {
  int index = 0;  // i of L_i (1-based; L_0 = I is not learned)
  double frobenius = 0, sparsity = 0, locality = 0, shift_span = 0;
  double cov_skew_share = -1;  // -1: not computed
};

struct LconvLayer {
  int layer = 0, generators = 0, rank = 0;
  analysis::Closure closure;
  bool closure_computed = false;
  std::vector<LconvGenerator> gens;
  // Per generator, the row of the centre pixel in image coordinates as an
  // H x W image: what L_i takes from each pixel into the centre (a shift-like
  // generator draws a 3x3 stencil; a random one noise). For --png.
  std::vector<Eigen::MatrixXd> centre_rows;
};

struct LconvReport {
  std::string model_name, kind;
  int height = 0, width = 0;
  bool unscrambled = false;  // shift scores in image coordinates (truth permutation applied)
  bool scrambled_data = false;
  long covariance_examples = 0;
  double locality_baseline = 0;  // a random matrix's share on the neighbourhood
  std::vector<LconvLayer> layers;
  std::vector<std::string> notes;
};

// `tasks` may be null.
LconvReport inspect_lconv(const io::Reader& model, const io::Reader* tasks);
nlohmann::json lconv_report_json(const LconvReport& r);
std::string lconv_report_text(const LconvReport& r);

}  // namespace symlearn::images
