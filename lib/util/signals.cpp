#include "util/signals.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace symlearn {

namespace {
constexpr int kMaxTemps = 16;
constexpr int kMaxPath = 4096;
char g_temp_paths[kMaxTemps][kMaxPath];
volatile std::sig_atomic_t g_temp_used[kMaxTemps];

char g_tool[64] = "symlearn";
char g_grace[16] = "10";
std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_graceful = 0;      // a GracefulStop is alive
volatile std::sig_atomic_t g_first_signal = 0;  // the signal that asked for a stop
bool g_have_graceful = false;

// Async-signal-safe: write(2) of fixed pieces only.
void say(const char* s) {
  const ssize_t ignored = write(STDERR_FILENO, s, std::strlen(s));
  (void)ignored;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

[[noreturn]] void remove_temps_and_die(int sig, bool grace_over) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_used[i]) unlink(g_temp_paths[i]);
  say(g_tool);
  say(": ");
  say(signal_name(sig));
  if (grace_over) {
    say(": the current step did not end within ");
    say(g_grace);
    say(" s; stopped without a new checkpoint (the last one, if any, stays valid)\n");
  } else {
    say(": stopped; outputs not yet complete were not written\n");
  }
  std::signal(sig, SIG_DFL);
  sigset_t unblock;  // blocked while the handler runs: let the default action happen now
  sigemptyset(&unblock);
  sigaddset(&unblock, sig);
  sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
  raise(sig);
  _exit(128 + sig);  // not reached: the default action ends the process
}

extern "C" void on_signal(int sig) {
  if (sig == SIGALRM) {  // the grace period of a requested stop is over
    if (!g_graceful) return;
    remove_temps_and_die(g_first_signal ? g_first_signal : SIGTERM, true);
  }
  if (g_graceful && !g_stop.load()) {
    g_first_signal = sig;
    g_stop.store(true);
    alarm(stop_grace_seconds());
    return;
  }
  remove_temps_and_die(sig, false);
}
}  // namespace

unsigned stop_grace_seconds() {
  static const unsigned grace = [] {
    const char* s = std::getenv("SYMLEARN_STOP_GRACE_SECONDS");
    const long v = s ? std::strtol(s, nullptr, 10) : 0;
    return v > 0 && v < 3600 ? static_cast<unsigned>(v) : 10u;
  }();
  return grace;
}

void install_signal_handlers(const std::string& tool) {
  std::strncpy(g_tool, tool.c_str(), sizeof g_tool - 1);
  std::snprintf(g_grace, sizeof g_grace, "%u", stop_grace_seconds());  // not inside the handler
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) sigaddset(&sa.sa_mask, sig);  // one handler at a time
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    // A signal ignored by whoever started us (nohup, a shell's background job) stays ignored.
    if (old.sa_handler == SIG_IGN && sig != SIGALRM) continue;
    sigaction(sig, &sa, nullptr);
  }
}

void register_temp_file(const std::string& path) {
  if (path.size() >= kMaxPath) return;
  for (int i = 0; i < kMaxTemps; ++i) {
    if (!g_temp_used[i]) {
      std::memcpy(g_temp_paths[i], path.c_str(), path.size() + 1);
      g_temp_used[i] = 1;
      return;
    }
  }
}

void unregister_temp_file(const std::string& path) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_used[i] && path == g_temp_paths[i]) g_temp_used[i] = 0;
}

void signal_point(const std::string& where) {
  static const char* at = std::getenv("SYMLEARN_SIGNAL_AT");
  if (!at || where != at) return;
  const char* which = std::getenv("SYMLEARN_SIGNAL");
  raise(which && std::strcmp(which, "INT") == 0 ? SIGINT : SIGTERM);
}

GracefulStop::GracefulStop() {
  if (g_have_graceful) throw std::logic_error("one GracefulStop at a time");
  g_have_graceful = true;
  g_stop.store(false);
  g_first_signal = 0;
  g_graceful = 1;
}

GracefulStop::~GracefulStop() {
  end();
  g_have_graceful = false;
}

const std::atomic<bool>* GracefulStop::requested() const { return &g_stop; }

void GracefulStop::end() {
  g_graceful = 0;
  alarm(0);
}

}  // namespace symlearn
