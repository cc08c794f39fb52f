// Image classifiers as the tools see them: L-conv (Dehmamy et al. 2021) with
// learned or random generators, and the CNN / FC baselines it is compared with.
#pragma once

#include "methods/registry.hpp"

namespace symlearn::images {

methods::Family family();

}  // namespace symlearn::images
