// The MSR family (Zhou, Knowles, Finn 2021) and its MAML baselines, as the
// tools see it: models msr-fc, msr-kron, maml-fc, maml-lc, maml-conv.
#pragma once

#include "methods/registry.hpp"

namespace symlearn::msr {

methods::Family family();

}  // namespace symlearn::msr
