// Outputs that appear whole or not at all (design.md section 5): a temporary
// file beside the target, renamed on success and removed on failure or on
// SIGINT/SIGTERM/SIGHUP (util/signals.hpp), so an existing target is never destroyed.
#pragma once

#include "util/signals.hpp"

#include <string>
#include <vector>

namespace symlearn {

// Creates an empty temporary file beside `target` (".NAME.tmp.PID.XXXXXX", with
// the permissions a new file gets), registers it for removal on a signal,
// stores its path in `temp` and returns an open descriptor. InputError when
// the directory cannot take it.
int create_temp_beside(const std::string& target, std::string& temp);

// After a successful write of `target`: removes the temporaries of earlier
// writes of it that SIGKILL (or a crash) left behind: same name pattern, a
// writer pid that no longer exists, untouched for a minute.
void remove_stale_temps(const std::string& target);

// Inputs are never overwritten by their own command. Every file a reader
// opens is noted (device and inode, so links and other spellings count);
// refuse_input_as_output(target) throws InputError, before any work, when
// `target` is one of them. The writers call it too, as a last guard.
void note_input_file(const std::string& path);
void refuse_input_as_output(const std::string& target);
// The one exception: a run resumed from its own default checkpoint replaces it.
void forget_input_file(const std::string& path);

// Whether `path` names a terminal device (e.g. -o /dev/tty).
bool is_terminal_path(const std::string& path);

// Writes `bytes` to `target`: "-" is stdout; an existing target that is not a
// regular file (/dev/null, a FIFO) is written in place; anything else goes to
// a temporary file beside it, renamed on success. Refuses a terminal
// (InputError naming `what`, e.g. "PNG"); I/O failures are RunError.
void write_file_atomically(const std::string& target, const std::vector<unsigned char>& bytes,
                           const std::string& what);

}  // namespace symlearn
