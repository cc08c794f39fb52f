// The "sterile" experiments of Theodosis, Helwani and Ba (2023), "Learning
// Linear Groups in Neural Networks", section 5.2: pairs of p x p patches x
// and y = T x, where T is one fixed linear transform of the patch (a
// rotation, a box mean, or a box mean followed by a rotation), with the exact
// d x d matrix T (d = p^2) stored as the truth.
//
// Patches are vectorised row-major: pixel (r, c) is entry r * p + c. The
// transforms are matrices on that vector, so y is computed as T x and T is
// exact by construction:
//   rotation: nearest neighbour, counter-clockwise as displayed (rows going
//             down) about the patch centre, pixels that come from outside the
//             patch are 0;
//   box mean: k x k mean, "same" size, reflect padding (numpy 'reflect').
//
// x is i.i.d. N(0, 1) noise (source gaussian), or one random patch of each
// image of a source (fashion-mnist, builtin glyphs, idx files), by default
// taken from the images after standardising them and ZCA-whitening them with
// the training images' covariance.
//
// The file written by write_lgn_patches():
//   /train/x, /train/y, /test/x, /test/y [1, N, d] float64   y = T x
//   /truth/operator [d, d] float64                            T, row-major pixels
//   root attributes kind = "lgn-patches", transform, patch (p), dim (d),
//   source, whitened (0/1), whiten_epsilon.
#pragma once

#include "io/h5.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::tasks {

// The d x d matrix (d = p^2) of a p x p patch turned by `degrees`
// counter-clockwise as displayed about its centre ((p-1)/2, (p-1)/2), nearest
// neighbour: each row holds at most one 1 (none where the source point lies
// outside the patch). A multiple of 90 degrees is a permutation.
Eigen::MatrixXd patch_rotation(int p, double degrees);
// The d x d matrix of a k x k box mean, "same" size, with reflect padding
// ((k-1)/2 pixels on the left/top, k-1-(k-1)/2 on the right/bottom, the edge
// pixel not repeated). Needs k-1-(k-1)/2 < p. Every row sums to 1.
Eigen::MatrixXd patch_box_mean(int p, int k);
// A named transform: "rot30", "rot45", "rot60", "rot90", "box3".."box6",
// "rot60-box4", "rot60-box5", "rot60-box6" (pool first, then rotate: T = R B).
// InputError for an unknown name or a box too large for the patch.
Eigen::MatrixXd patch_transform(int p, const std::string& name);
// The names patch_transform() knows, in the order above.
const std::vector<std::string>& patch_transform_names();

struct LgnPatchesSpec {
  std::string transform = "rot90";
  // gaussian: i.i.d. N(0, 1) patches | fashion-mnist | builtin (16 x 16 glyphs)
  // | idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]
  std::string source = "gaussian";
  int patch = 6;                     // 2..16
  long train = 10000, test = 2000;   // pairs; image sources: one random patch of each of the first images of a split
  bool whiten = true;                // image sources only: standardise, then ZCA-whiten whole images
  double whiten_epsilon = 1e-2;      // ZCA: W = U diag(1 / sqrt(s + eps * mean(s))) U^T
  std::uint64_t seed = 0;
  int dim() const { return patch * patch; }
  bool image_source() const { return source != "gaussian"; }
  void validate() const;  // InputError
  nlohmann::json config() const;
};

void write_lgn_patches(const LgnPatchesSpec& spec, io::Writer& out);

// One split of an lgn-patches file in memory: columns are pairs.
struct PatchPairs {
  int patch = 0;
  std::string transform;
  Eigen::MatrixXd x, y;  // d x N (d = patch^2)
};
PatchPairs load_patch_pairs(const io::Reader& file, const std::string& split);  // InputError naming the file
// /truth/operator (d x d), checked.
Eigen::MatrixXd load_true_operator(const io::Reader& file);

}  // namespace symlearn::tasks
