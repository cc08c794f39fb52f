#include "util/atomic_file.hpp"

#include "util/error.hpp"
#include "util/signals.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

namespace symlearn {

namespace {
struct InputFile {
  dev_t dev;
  ino_t ino;
  std::string path;
};
std::mutex g_inputs_mutex;
std::vector<InputFile> g_inputs;
}  // namespace

void note_input_file(const std::string& path) {
  struct stat st {};
  if (path == "-" || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  const std::lock_guard<std::mutex> lock(g_inputs_mutex);
  for (const auto& f : g_inputs)
    if (f.dev == st.st_dev && f.ino == st.st_ino && f.path == path) return;
  g_inputs.push_back({st.st_dev, st.st_ino, path});
}

void forget_input_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return;
  const std::lock_guard<std::mutex> lock(g_inputs_mutex);
  g_inputs.erase(std::remove_if(g_inputs.begin(), g_inputs.end(),
                                [&](const InputFile& f) { return f.dev == st.st_dev && f.ino == st.st_ino; }),
                 g_inputs.end());
}

void refuse_input_as_output(const std::string& target) {
  struct stat st {};
  if (target.empty() || target == "-" || stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  const std::lock_guard<std::mutex> lock(g_inputs_mutex);
  for (const auto& f : g_inputs) {
    if (f.dev != st.st_dev || f.ino != st.st_ino) continue;
    // Only while the input is still there: an input deleted since (in a
    // long-lived process, the unit tests) may have handed its inode on.
    struct stat now {};
    if (stat(f.path.c_str(), &now) != 0 || now.st_dev != f.dev || now.st_ino != f.ino) continue;
    throw InputError(target + ": is " + (f.path == target ? "an input" : "the same file as the input " + f.path) +
                     " of this command; refusing to overwrite it (write the output elsewhere)");
  }
}

bool is_terminal_path(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return false;
  const bool tty = isatty(fd);
  close(fd);
  return tty;
}

namespace {
bool write_all(int fd, const std::vector<unsigned char>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

namespace {
void split_path(const std::string& target, std::string& dir, std::string& base) {
  const std::size_t slash = target.rfind('/');
  dir = slash == std::string::npos ? "." : target.substr(0, slash + (slash == 0));
  base = slash == std::string::npos ? target : target.substr(slash + 1);
}
}  // namespace

int create_temp_beside(const std::string& target, std::string& temp) {
  std::string dir, base;
  split_path(target, dir, base);
  // The writer's pid in the name: a later write of the same target can tell a
  // temporary whose writer is gone (killed with SIGKILL) from a live one.
  temp = (dir == "/" ? "" : dir) + "/." + base + ".tmp." + std::to_string(getpid()) + ".XXXXXX";
  const int fd = mkstemp(temp.data());
  if (fd < 0) throw InputError(target + ": cannot create a file in " + dir + ": " + std::strerror(errno));
  register_temp_file(temp);
  // mkstemp makes the file private; give it the permissions a new file gets.
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  return fd;
}

void remove_stale_temps(const std::string& target) {
  std::string dir, base;
  split_path(target, dir, base);
  const std::string prefix = "." + base + ".tmp.";
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  const time_t now = time(nullptr);
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() <= prefix.size() + 7 || name.compare(0, prefix.size(), prefix) != 0) continue;
    // ".BASE.tmp.PID.XXXXXX": a pid of digits, then mkstemp's six characters.
    const std::string rest = name.substr(prefix.size());
    const std::size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || rest.size() - dot - 1 != 6 ||
        rest.find_first_not_of("0123456789") != dot)
      continue;
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid <= 0 || pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string path = (dir == "/" ? "" : dir) + "/" + name;
    struct stat st {};
    // Untouched for a minute too: a writer in another pid namespace would look dead to kill().
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < 60) continue;
    unlink(path.c_str());
  }
  closedir(d);
}

void write_file_atomically(const std::string& target, const std::vector<unsigned char>& bytes,
                           const std::string& what) {
  refuse_input_as_output(target);
  struct stat st {};
  const bool to_stdout = target == "-";
  const bool exists = !to_stdout && stat(target.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw InputError(target + ": is a directory");
  if (to_stdout || (exists && !S_ISREG(st.st_mode))) {
    const std::string name = to_stdout ? "<stdout>" : target;
    const bool tty = to_stdout ? isatty(STDOUT_FILENO) : S_ISCHR(st.st_mode) && is_terminal_path(target);
    if (tty) throw InputError(name + ": is a terminal; refusing to write binary " + what + " there");
    std::fflush(stdout);
    const int fd = to_stdout ? STDOUT_FILENO : open(target.c_str(), O_WRONLY);
    if (fd < 0) throw RunError(name + ": cannot open for writing: " + std::strerror(errno));
    const bool ok = write_all(fd, bytes);
    const int err = errno;
    if (!to_stdout) close(fd);
    if (!ok) throw RunError(name + ": write failed: " + std::strerror(err));
    return;
  }
  std::string temp;
  const int fd = create_temp_beside(target, temp);
  const bool ok = write_all(fd, bytes);
  const int err = errno;
  const bool closed = close(fd) == 0;
  if (!ok || !closed || std::rename(temp.c_str(), target.c_str()) != 0) {
    const int e = ok && closed ? errno : err;
    unlink(temp.c_str());
    unregister_temp_file(temp);
    throw RunError(target + ": cannot write the " + what + ": " + std::strerror(e));
  }
  unregister_temp_file(temp);
  remove_stale_temps(target);
}

}  // namespace symlearn
