#include "learn/precision.hpp"

#include "util/error.hpp"

namespace symlearn::learn {

const char* precision_name(Precision p) { return p == Precision::float32 ? "float32" : "float64"; }

Precision precision_from_name(const std::string& name) {
  if (name == "float32") return Precision::float32;
  if (name == "float64") return Precision::float64;
  throw InputError("--precision must be float32 or float64, not '" + name + "'");
}

}  // namespace symlearn::learn
