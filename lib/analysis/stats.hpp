// Summary statistics the papers report: mean and the half-width of a 95%
// Student-t confidence interval.
#pragma once

#include <vector>

namespace symlearn::analysis {

struct MeanCI {
  double mean = 0, std = 0, half_width = 0;  // half_width: of the 95% t-interval
  long n = 0;
};
MeanCI mean_ci95(const std::vector<double>& values);

// Regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x);
// Quantile of Student's t distribution with `dof` degrees of freedom (p in (0,1)).
double t_quantile(double p, double dof);

}  // namespace symlearn::analysis
