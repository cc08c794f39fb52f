// The floating-point type training kernels compute in. float32 is the
// default where a kernel has a float path (twice the SIMD width, half the
// memory traffic); float64 is kept for gradient checks and as an option.
// Parameters, optimizer state and files stay float64 either way.
#pragma once

#include <string>

namespace symlearn::learn {

enum class Precision { float32, float64 };

const char* precision_name(Precision p);
Precision precision_from_name(const std::string& name);  // InputError unless float32 | float64

}  // namespace symlearn::learn
