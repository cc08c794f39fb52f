// How every tool ends on SIGINT, SIGTERM or SIGHUP (design.md section 5).
//
// - By default the temporary files registered below are removed, one line
//   goes to stderr ("TOOL: interrupted by SIGTERM; nothing written") and the
//   process dies of the signal (exit status 128 + N), so a target is left as
//   it was or whole, never partly written, and no temporary stays behind.
// - Inside a training run (GracefulStop alive) the first signal only asks the
//   run to stop at its next step boundary, where it writes a checkpoint and
//   exits 130. If no boundary comes within the grace period (one step can be
//   long) or a second signal arrives, the default applies: the checkpoint
//   written last stays valid.
#pragma once

#include <atomic>
#include <string>

namespace symlearn {

// Installs the handlers; `tool` prefixes the line written on a signal.
// cli::run_tool calls it before parsing the command line.
void install_signal_handlers(const std::string& tool);

// Temporary files to remove when a signal ends the process. At most 16 at a time.
void register_temp_file(const std::string& path);
void unregister_temp_file(const std::string& path);

// Seconds a training run has, after the first signal, to reach a step boundary.
// SYMLEARN_STOP_GRACE_SECONDS overrides (the tests use 1).
unsigned stop_grace_seconds();

// Fault injection for the tests: raises SIGTERM (SIGINT when SYMLEARN_SIGNAL
// is INT) here when the environment's SYMLEARN_SIGNAL_AT equals `where`
// ("commit:NAME" before an output NAME is moved into place, "step:N" when
// outer step N starts), so a signal lands at a known point.
void signal_point(const std::string& where);

// While alive, the first SIGINT / SIGTERM sets stop_requested() instead of
// ending the process. One at a time.
class GracefulStop {
 public:
  GracefulStop();
  ~GracefulStop();
  GracefulStop(const GracefulStop&) = delete;
  GracefulStop& operator=(const GracefulStop&) = delete;
  const std::atomic<bool>* requested() const;
  // Ends the window early: the grace alarm is cancelled and from here a
  // signal ends the process at once. Called at the step boundary where a
  // requested stop is honoured (its checkpoint may take as long as it needs)
  // and before the final write.
  void end();
};

}  // namespace symlearn
