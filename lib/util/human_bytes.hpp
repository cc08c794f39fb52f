// Byte counts for people: "112.0 MB" (decimal units).
#pragma once

#include <string>

namespace symlearn {

std::string human_bytes(double bytes);

}  // namespace symlearn
