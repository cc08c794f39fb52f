// Learned parameter sharing (Yeh et al. 2022) as the tools see it: models
// sharing (bi-level, implicit hypergradients) and the fixed-sharing baselines
// sharing-oracle, sharing-none, sharing-all, sharing-brute.
#pragma once

#include "methods/registry.hpp"

namespace symlearn::sharing {

methods::Family family();

}  // namespace symlearn::sharing
