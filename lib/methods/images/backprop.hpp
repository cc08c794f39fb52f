// Hand-written forward and backward passes of the image classifiers
// (methods/images/models), in float or double, for training. They compute
// the same function and gradient as ImageModel::forward through lib/ad (the
// unit tests compare them to 1e-10 in double, and float to float rounding),
// but with no graph: every layer is a few matrix products on buffers laid out
// so that the reshapes between layers are free, the products in float or
// double through linalg::gemm_into (its tile kernels or OpenBLAS), and an
// L-conv layer's sum in the cheaper of two association orders (LconvOrder).
// lib/ad stays the reference and the
// path for anything twice-differentiated.
#pragma once

#include "methods/images/models.hpp"

#include <Eigen/Dense>

#include <vector>

namespace symlearn::images {

template <class S>
using MatOf = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

// How an L-conv layer associates its sum (backprop.cpp): by the multiply-add
// count (automatic), or forced, for tests.
enum class LconvOrder { automatic, per_generator, grouped };

// Whether an L-conv layer with `channels` inputs sums in the grouped order.
bool lconv_grouped(const ImageArch& arch, Eigen::Index channels, LconvOrder order);

// The model's parameters converted to S once per optimizer step, shared by
// the slices of a mini-batch.
template <class S>
struct Weights {
  explicit Weights(const ImageModel& model);
  const ImageModel* model;
  std::vector<MatOf<S>> p;  // in model.params order
  LconvOrder lconv_order = LconvOrder::automatic;
};

template <class S>
struct SliceResult {
  double loss = 0;     // weight * mean cross-entropy over the slice
  long correct = 0;    // rows whose largest logit is the label
  std::vector<MatOf<S>> grads;  // d loss / d param, trainable params in order
};

// Loss and gradient of one slice: x (rows x HW*C, channels last) with labels,
// the mean cross-entropy multiplied by `weight` (the slice's share of the
// mini-batch).
template <class S>
SliceResult<S> backprop_slice(const Weights<S>& w, const MatOf<S>& x, const std::vector<int>& labels, double weight);

// Logits (rows x classes) without gradients.
template <class S>
MatOf<S> forward_logits(const Weights<S>& w, const MatOf<S>& x);

}  // namespace symlearn::images
