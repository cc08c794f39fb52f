#include "tasks/whitening.hpp"

#include "util/error.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

namespace symlearn::tasks {

Whitening fit_whitening(long n, long pixels, const std::function<Eigen::VectorXd(long)>& image, double epsilon) {
  if (n < 2 || pixels < 1) throw InputError("whitening needs at least 2 images");
  if (!(epsilon >= 0) || !std::isfinite(epsilon)) throw InputError("the whitening epsilon must be finite and >= 0");
  Whitening w;
  w.epsilon = epsilon;
  // Two passes for the global mean and std (accurate in double over 47M pixels).
  double sum = 0;
  for (long i = 0; i < n; ++i) sum += image(i).sum();
  w.mean = sum / (double(n) * double(pixels));
  double sq = 0;
  for (long i = 0; i < n; ++i) sq += (image(i).array() - w.mean).square().sum();
  w.std = std::sqrt(sq / (double(n) * double(pixels)));
  if (!(w.std > 1e-12)) throw InputError("the training images are constant: they cannot be whitened (use --no-whiten)");
  // The covariance of z from its second moment, a block of images at a time.
  const long block = 1024;
  Eigen::MatrixXd second = Eigen::MatrixXd::Zero(pixels, pixels);
  Eigen::VectorXd total = Eigen::VectorXd::Zero(pixels);
  for (long first = 0; first < n; first += block) {
    const long m = std::min(block, n - first);
    Eigen::MatrixXd z(pixels, m);
    for (long j = 0; j < m; ++j) z.col(j) = (image(first + j).array() - w.mean) / w.std;
    total += z.rowwise().sum();
    second.selfadjointView<Eigen::Lower>().rankUpdate(z);
  }
  const Eigen::VectorXd centre = total / double(n);
  w.centre = centre.transpose();
  Eigen::MatrixXd cov = second.selfadjointView<Eigen::Lower>();
  cov = cov / double(n) - centre * centre.transpose();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  if (eig.info() != Eigen::Success) throw RunError("the eigendecomposition of the training images' covariance failed");
  const Eigen::VectorXd s = eig.eigenvalues().cwiseMax(0.0);  // rounding can make zero eigenvalues slightly negative
  const Eigen::ArrayXd shrunk = s.array() + epsilon * s.mean();
  if (!shrunk.allFinite()) throw InputError("the whitening epsilon is too large");
  // Rounding leaves the zero eigenvalues of a singular covariance at about
  // D * 1e-16 of the largest; without epsilon they would blow up.
  if (!(shrunk.minCoeff() > 1e-10 * s.maxCoeff()))
    throw InputError("the training images' covariance is singular: whitening needs an epsilon > 0");
  const Eigen::MatrixXd& u = eig.eigenvectors();
  w.zca = u * shrunk.rsqrt().matrix().asDiagonal() * u.transpose();
  return w;
}

Whitening fit_whitening(const ImageRows& x, double epsilon) {
  return fit_whitening(x.rows(), x.cols(), [&](long i) -> Eigen::VectorXd { return x.row(i).transpose(); }, epsilon);
}

void apply_whitening(const Whitening& w, ImageRows& x) {
  if (w.zca.rows() != x.cols())
    throw InputError("whitening of " + std::to_string(w.zca.rows()) + " pixels applied to images of " +
                     std::to_string(x.cols()));
  ImageRows s = ((x.array() - w.mean) / w.std).matrix();
  s.rowwise() -= w.centre;
  x.noalias() = s * w.zca;  // zca is symmetric: each row times zca^T
}

}  // namespace symlearn::tasks
