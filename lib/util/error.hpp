// The two kinds of failure every tool distinguishes (design.md section 5).
// Messages are one line and name the file and what is wrong; the tool's name
// is prefixed by cli::run_tool.
#pragma once

#include <stdexcept>
#include <string>

namespace symlearn {

// Bad usage or bad input: exit status 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A failure while running (I/O, divergence, ...): exit status 1.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Ends a tool with a given exit status and one line on stderr (e.g. 130 after
// an interrupted run wrote its checkpoint).
struct ExitRequest : std::runtime_error {
  ExitRequest(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  int code;
};

}  // namespace symlearn
