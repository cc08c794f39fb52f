// Standardisation and ZCA whitening of images (Theodosis et al. 2023 whiten
// their inputs before the unfolded network and the sterile patches): one
// global mean and std over the training pixels, then
//   W = U diag(1 / sqrt(s + epsilon * mean(s))) U^T
// from the eigen-decomposition of the standardised images' covariance. The
// epsilon is relative to the mean eigenvalue (the authors' absolute 1e-8
// blows up the near-zero directions of MNIST-like data), so it means the same
// at any image size.
#pragma once

#include <Eigen/Dense>

#include <functional>

namespace symlearn::tasks {

struct Whitening {
  double mean = 0, std = 1;   // standardisation: z = (x - mean) / std
  Eigen::RowVectorXd centre;  // the mean of z over the training images, 1 x D
  Eigen::MatrixXd zca;        // D x D, symmetric: whitened = (z - centre) zca
  double epsilon = 1e-2;      // relative to the mean eigenvalue
  bool empty() const { return zca.size() == 0; }
};

using ImageRows = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Fitted on n images of `pixels` values, image(i) giving image i; the
// covariance is accumulated a block of images at a time, so the images never
// sit in memory as one double matrix. InputError for constant images or a
// singular covariance with epsilon 0.
Whitening fit_whitening(long n, long pixels, const std::function<Eigen::VectorXd(long)>& image, double epsilon);
// Fitted on the rows of x (one image per row).
Whitening fit_whitening(const ImageRows& x, double epsilon);
// Whitens every row of x in place.
void apply_whitening(const Whitening& w, ImageRows& x);

}  // namespace symlearn::tasks
