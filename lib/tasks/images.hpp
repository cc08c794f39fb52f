// Image classification data for L-conv (Dehmamy et al., "Automatic Symmetry
// Discovery with Lie Algebra Convolutional Network"): images rotated by a
// random angle each, then pixel-scrambled by one fixed permutation.
//
// Sources: `builtin` (ten classes of procedurally drawn glyphs, no download),
// `idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]` (MNIST / Fashion-MNIST IDX
// files, gzipped or not) and `fashion-mnist` (the Debian package
// dataset-fashion-mnist under /usr/share/datasets/fashion-mnist).
//
// Images are row-major, channels last, pixel values in [0, 1] (or [-0.5, 0.5]). The file
// written by write_rotated_scrambled():
//   /train/x, /test/x  [1, N, H*W*C] float32     /train/y, /test/y [1, N] int64
//   /val/x, /val/y     the same, with --val-fraction: the last images of the training set
//   /truth/permutation [H*W] int64: stored pixel k is the rotated image's pixel perm[k]
//                                   (the identity without --scramble)
//   /truth/train_angle, /truth/test_angle [N] float64, degrees (zeros without --rotate)
//   root attributes kind = "rotated-scrambled", height, width, channels, classes.
#pragma once

#include "io/h5.hpp"
#include "util/rng.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace symlearn::tasks {

struct ImageSet {
  int height = 0, width = 0, channels = 1;
  std::vector<float> pixels;  // N * H * W * C, row-major, channels last
  std::vector<int> labels;    // N
  long size() const { return static_cast<long>(labels.size()); }
  long image_size() const { return static_cast<long>(height) * width * channels; }
  const float* image(long i) const { return pixels.data() + i * image_size(); }
  float* image(long i) { return pixels.data() + i * image_size(); }
  // The first n images (n <= size()).
  ImageSet head(long n) const;
  // Images [first, first + n).
  ImageSet slice(long first, long n) const;
};

// An IDX image file (magic 0x0803: [N, H, W] or 0x0804: [N, H, W, C] unsigned
// bytes) and its label file (0x0801: [N]); gzip is detected and decoded.
// Throws InputError naming the file for anything else.
ImageSet read_idx(const std::string& images_path, const std::string& labels_path);

// Ten classes of glyphs drawn with random position, scale, stroke width and
// pixel noise; upright and distinguishable under rotation (ring, disc,
// square, triangle, plus, T, L, equals, Z, V). Image i depends only on
// (seed, first + i).
ImageSet make_glyphs(long n, int size, std::uint64_t seed, long first = 0);
const std::vector<std::string>& glyph_names();

// The image turned by `degrees` (counter-clockwise as displayed, rows going
// down) about its centre; coordinates outside the image clamped to the border
// (border pixels extended). bilinear, or cubic: the interpolating cubic
// B-spline (as scipy.ndimage order 3; spline coefficients mirrored at the
// edges), which reproduces the image exactly at 0 degrees.
enum class Interpolation { bilinear, cubic };
std::vector<float> rotate_image(const float* image, int height, int width, int channels, double degrees,
                                Interpolation interpolation = Interpolation::bilinear);

// The IDX files of a source: fashion-mnist's four (InputError when the
// package is missing), or idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]'s two or four.
std::vector<std::string> source_files(const std::string& source);

// A uniform random permutation of 0..n-1 (Fisher-Yates).
std::vector<std::int64_t> random_permutation(long n, Rng& rng);
// out pixel k = in pixel perm[k] (all channels of a pixel move together).
std::vector<float> permute_pixels(const float* image, int pixels, int channels, const std::vector<std::int64_t>& perm);

struct RotatedScrambledSpec {
  std::string source = "builtin";
  bool rotate = false, scramble = false;
  long train = -1, test = -1;  // -1: the source's own split (builtin: 4000 / 1000)
  std::string interpolation = "bilinear";  // bilinear | cubic
  std::string pixels = "unit";             // unit: [0, 1] | centered: [-0.5, 0.5] (Dehmamy et al.'s code)
  double val_fraction = 0;                 // the last share of the training images written as /val
  int size = 16;               // builtin only: image side
  std::uint64_t seed = 0;
  void validate() const;       // InputError for nonsense
  nlohmann::json config() const;
};

struct RotatedScrambledStats {
  long train = 0, val = 0, test = 0;
  int height = 0, width = 0, channels = 0, classes = 0;
};

// Loads or draws the images, rotates and scrambles them, writes the file.
RotatedScrambledStats write_rotated_scrambled(const RotatedScrambledSpec& spec, io::Writer& out);

// One split of an image classification tasks file, in memory.
struct ImageSplit {
  std::string name;
  int height = 0, width = 0, channels = 1, classes = 0;
  // N x (H*W*C), channels last, one image per (contiguous) row.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x;
  std::vector<int> labels;  // N
  long size() const { return static_cast<long>(labels.size()); }
};
// Reads `split` of a rotated-scrambled tasks file, checking its attributes,
// shapes and labels. `limit` > 0 keeps only the first `limit` examples.
ImageSplit load_image_split(const io::Reader& file, const std::string& split, long limit = 0);

}  // namespace symlearn::tasks
