// Image classifiers for the L-conv experiments (Dehmamy et al. 2021), built
// from lib/ad ops so that every layer can be differentiated twice.
//
// L-conv layer on one image h (HW x C: pixels by channels):
//   F(h) = relu( sum_{i=0}^{nL} L_i h W^i + b ),  L_0 = I,  L_i = U_i V_i
// with U_i (HW x d_h) and V_i (d_h x HW) learned: low-rank generators acting on
// the flattened pixel index; W^i (C x F) mixes channels. With L_i the shift
// operators of a 3x3 neighbourhood it is a 3x3 convolution with zero padding.
//
// A batch of B images with C channels travels as A (HW x B*C), column b + B*c
// = channel c of image b, so that L_i A = U_i (V_i A) is one product and the
// reshape of (L_i A) to (HW*B x C) is free to mix channels.
//
// Models: lconv, lconv-random (the U_i, V_i random and frozen), cnn
// (3x3 convolution, the 8 neighbour shifts + identity; `valid` padding drops
// the border outputs), fc (L-conv's shapes, HW*C -> HW*F, without weight
// sharing; with a bottleneck, Dense(k) first: the authors' FC baseline),
// fc-shallow (one hidden layer whose width matches lconv's parameter count).
// Every kind ends with flatten and a dense softmax classifier.
#pragma once

#include "ad/ad.hpp"
#include "util/rng.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::images {

struct ImageArch {
  std::string kind = "lconv";
  int height = 0, width = 0, channels = 1, classes = 10;
  int layers = 1;       // lconv / lconv-random / cnn / fc
  int filters = 32;     // F of every layer
  int generators = 8;   // learned L_i (plus L_0 = I)
  int rank = 8;         // d_h
  int hidden = 0;       // fc-shallow width (0: match lconv's parameter count)
  int bottleneck = 0;   // fc: > 0 puts a dense layer of this width first (the authors' FC: 72)
  std::string padding = "same";  // cnn: same | valid (1 layer; the border outputs dropped)
  std::string init = "he";       // he | glorot (Keras's: truncated-normal Glorot on L-conv's tensors,
                                 // uniform Glorot on convolution and dense kernels; Dehmamy et al.'s code)

  int pixels() const { return height * width; }
  void validate() const;  // InputError
  nlohmann::json to_json() const;
  static ImageArch from_json(const nlohmann::json& j);  // InputError
};

// A parameter: internal matrix plus how it is stored in a file. A 3-D stored
// shape [S, R, K] is S slices of R x K, kept either as rows stacked
// (internal (S*R) x K) or as columns side by side (internal R x (S*K)).
struct ImageParam {
  std::string name;
  ad::Mat value;
  std::string role;        // "symmetry" (generators) or "weights"
  bool trainable = true;
  std::vector<std::uint64_t> stored;  // 2 or 3 dims
  bool side_by_side = false;          // 3-D: slices as column blocks
};

// Row-major data of the stored form, and back.
std::vector<double> to_stored(const ImageParam& p);
ad::Mat from_stored(const ImageParam& like, const std::vector<double>& data);

struct ImageModel {
  ImageArch arch;
  std::vector<ImageParam> params;

  // Fresh parameters (He-style scales; U ~ N(0, 1/d_h), V ~ N(0, 1/HW)).
  static ImageModel init(const ImageArch& arch, Rng& rng);
  long count() const;            // every parameter entry
  long trainable_count() const;  // without frozen ones
  int find(const std::string& name) const;  // index or -1

  // Logits (B x classes) for x (B x HW*C, channels last) with the parameters
  // given as Vars in the order of `params`.
  ad::Var forward(const std::vector<ad::Var>& p, const ad::Mat& x) const;
};

// ---- layers (exposed for tests) ------------------------------------------------

// x (B x HW*C, channels last) -> A (HW x B*C).
ad::Mat images_to_columns(const ad::Mat& x, int pixels, int channels);
// A (HW x B*C) -> features (B x C*HW): column c + C*p.
ad::Var columns_to_features(const ad::Var& a, ad::Index batch);

// Pre-activation of an L-conv layer: sum_i L_i A W^i + b with L_0 = I,
// L_i = U_i V_i (U = [U_1 ... U_n] side by side, HW x n*d_h; V = V_i stacked,
// n*d_h x HW), W = W^0..W^n stacked ((n+1)*C x F), b (1 x F). Returns HW x B*F.
ad::Var lconv_layer(const ad::Var& a, const ad::Var& u, const ad::Var& v, const ad::Var& w, const ad::Var& b,
                    int generators, ad::Index batch);

// The 9 offsets (dy, dx) of a 3x3 kernel, (0,0) first then row by row.
std::vector<std::pair<int, int>> conv_offsets();
// out pixel p = in pixel p + (dy, dx), -1 (zero) outside the image.
std::vector<ad::Index> shift_index(int height, int width, int dy, int dx);
// The same as an HW x HW matrix S with (S h)[p] = h[p + (dy, dx)].
ad::Mat shift_matrix(int height, int width, int dy, int dx);
// Pixels a valid 3x3 convolution keeps: every pixel off the border, row-major.
std::vector<ad::Index> interior_pixels(int height, int width);
// Pre-activation of a 3x3 convolution (zero padding): W (9*C x F) stacked in
// conv_offsets() order, b (1 x F). Returns HW x B*F.
ad::Var conv3x3_layer(const ad::Var& a, int height, int width, const ad::Var& w, const ad::Var& b, ad::Index batch);

}  // namespace symlearn::images
