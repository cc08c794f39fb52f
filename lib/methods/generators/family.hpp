// Lie-generator discovery from transformation pairs (gen-tasks
// generator-pairs; L-conv's appendix C with a known answer) as the tools see
// it: meta-train lie-generator, eval (first-order residual on /test),
// inspect-symmetry (|cos| with /truth/generator).
#pragma once

#include "methods/registry.hpp"

namespace symlearn::generators {

methods::Family family();

}  // namespace symlearn::generators
