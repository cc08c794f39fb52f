#include "cli/cli.hpp"

#include "util/error.hpp"
#include "util/signals.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

namespace symlearn::cli {

std::string created_by(const std::string& tool) { return tool + " " + SYMLEARN_VERSION; }

void add_common(CLI::App& app, Common& c, const std::string& tool) {
  if (!app.get_parent()) {
    app.set_version_flag("--version", created_by(tool));
    app.set_config("--config", "", "Read options from a TOML/INI file (command-line options win)");
  }
  app.add_option("--seed", c.seed, "Random seed: same seed, same output")->capture_default_str();
  app.add_option("--threads", c.threads, "Worker threads (0: every core); outputs do not depend on it")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_flag("-q,--quiet", c.quiet, "No progress bar or summary on stderr");
  app.add_flag("--json", c.json, "Print a machine-readable summary as JSON on stdout");
}

void init_app(CLI::App& app) {
  // A repeated option takes its last value, as in most Unix tools (so a
  // script can append an override).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

namespace {
// A closed stdin, stdout or stderr (`>&-`) would hand its number to the next
// file opened, an output file among them, and what is printed would land in
// it. Occupy it with /dev/null opened read-only: reads see an empty stream and
// writes fail, so lost output is reported (finish_stdout) instead of silent.
void guard_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0 && null != fd) {
      dup2(null, fd);
      close(null);
    }
  }
}

// Number options hold what they say: CLI11 reads "-1" into an unsigned as
// 2^64 - 1, lets an out-of-range integer saturate and takes "nan" and "inf";
// an empty value ("--steps ''") would leave the default in place. Each option
// of `app` and its subcommands gets a check for its type (from its type name).
void harden_options(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->get_expected_min() == 0) continue;  // a flag
    const std::string type = o->get_type_name();
    const auto is = [&](const std::string& t) {  // "INT" or "INT:INT in [0 - 1024]", not "UINT"
      return type.rfind(t, 0) == 0 && (type.size() == t.size() || type[t.size()] == ':');
    };
    const bool is_uint = is("UINT"), is_int = is("INT"), is_float = is("FLOAT");
    o->check(CLI::Validator(
        [is_uint, is_int, is_float](std::string& v) -> std::string {
          if (v.empty()) return "an empty value (give one, or leave the option out for its default)";
          if (!is_uint && !is_int && !is_float) return "";
          const char* p = v.c_str();
          char* end = nullptr;
          errno = 0;
          if (is_float) {
            const double d = std::strtod(p, &end);
            if (*end == '\0' && end != p && !std::isfinite(d)) return "not a finite number: " + v;
            return "";  // CLI11 reports what is not a number at all
          }
          if (is_uint && v.find('-') != std::string::npos) return "must not be negative: " + v;
          if (is_uint) (void)std::strtoull(p, &end, 10);
          else (void)std::strtoll(p, &end, 10);
          if (errno == ERANGE) return "out of range: " + v;
          return "";
        },
        ""));
  }
  for (CLI::App* sub : app.get_subcommands({})) harden_options(*sub);
}

// The option names a config file may set in `app` (long names without --, positional names).
std::set<std::string> config_keys(const CLI::App& app) {
  std::set<std::string> keys;
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& n : o->get_lnames()) keys.insert(n);
    if (o->get_lnames().empty() && o->get_snames().empty()) keys.insert(o->get_name());
  }
  return keys;
}

// CLI11 takes a config file's unknown keys, broken lines and binary bytes in
// silence (or with a message naming neither line nor key): check the file
// first. `[section]`s are subcommands; `key = value` lines name options.
void check_config_file(const std::string& path, const CLI::App& app) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": " + std::strerror(errno));
  constexpr std::streamoff kMaxConfig = 1 << 20;  // options fit in far less; a huge file is a wrong path
  in.seekg(0, std::ios::end);
  if (in.tellg() > kMaxConfig) throw InputError(path + ": over 1 MiB: not a config file");
  in.seekg(0);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find('\0') != std::string::npos)
    throw InputError(path + ": not a text config file (it holds binary data)");
  const CLI::App* section = &app;
  std::string section_name;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    const auto where = path + ":" + std::to_string(number) + ": ";
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    std::string l = line.substr(first);
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.pop_back();
    if (l.front() == '[') {
      if (l.back() != ']' || l.size() < 3 || l[1] == '[')
        throw InputError(where + "cannot parse '" + l + "' (a section is [NAME])");
      section_name = l.substr(1, l.size() - 2);
      section = nullptr;
      if (section_name == "default") section = &app;
      for (const CLI::App* sub : app.get_subcommands({}))
        if (sub->get_name() == section_name) section = sub;
      if (!section)
        throw InputError(where + "unknown section [" + section_name + "] (not a subcommand of " + app.get_name() + ")");
      continue;
    }
    const std::size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(where + "cannot parse '" + l + "' (expected KEY = VALUE)");
    std::string key = l.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    const CLI::App* owner = section;
    if (const std::size_t dot = key.find('.'); dot != std::string::npos && section == &app) {  // msr-fc.steps = 3
      owner = nullptr;
      for (const CLI::App* sub : app.get_subcommands({}))
        if (sub->get_name() == key.substr(0, dot)) owner = sub;
      if (!owner) throw InputError(where + "unknown key '" + key + "'");
      key = key.substr(dot + 1);
    }
    const std::set<std::string> keys = config_keys(*owner);
    if (!keys.count(key) && owner == &app)
      for (const CLI::App* sub : app.get_subcommands({}))
        if (config_keys(*sub).count(key))
          throw InputError(where + "'" + key + "' is an option of a subcommand: put it in that subcommand's section, e.g. [" +
                           sub->get_name() + "]");
    if (!keys.count(key))
      throw InputError(where + "unknown key '" + key + "' (not an option of " +
                       (owner == &app ? app.get_name() : app.get_name() + " " + owner->get_name()) + ")");
  }
}

// Every byte printed must have reached stdout: "" when it did, else why not.
std::string finish_stdout() {
  std::cout.flush();
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  int err = errno;
  if (flushed && !std::ferror(stdout) && std::cout.good()) return "";
  if (flushed || err == 0) {
    // An earlier automatic flush failed and its errno is gone; the output is
    // lost already, so one more byte tells the reason (ENOSPC, EBADF, EIO...).
    err = ::write(STDOUT_FILENO, "\n", 1) < 0 ? errno : EIO;
  }
  return std::string("<stdout>: write failed: ") + std::strerror(err) +
         (err == EBADF ? " (is stdout closed?)" : "");
}
}  // namespace

int run_tool(const std::string& tool, CLI::App& app, int argc, char** argv,
             const std::function<void()>& body,
             const std::function<std::string(const CLI::ParseError&)>& explain) {
  // The autodiff allocates and frees many 40-120 kB matrices per task; with
  // glibc's defaults the heap top is trimmed and refaulted over and over
  // (a tenth of meta-train's time went to page faults). Keep freed memory.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  guard_standard_fds();
  // Text for stdout is held until the end (a pipe or file, not a terminal), so
  // a failed write is seen with its reason by the final flush.
  if (!isatty(STDOUT_FILENO)) std::setvbuf(stdout, nullptr, _IOFBF, 1 << 20);
  install_signal_handlers(tool);
  harden_options(app);
  for (int i = 1; i < argc; ++i) {  // "--steps=" reaches CLI11 as a request for the next argument
    const std::string a = argv[i];
    if (a == "--") break;
    try {
      if (a == "--config" && i + 1 < argc) check_config_file(argv[i + 1], app);
      if (a.rfind("--config=", 0) == 0) check_config_file(a.substr(9), app);
    } catch (const InputError& e) {
      std::cerr << tool << ": " << e.what() << std::endl;
      return 2;
    }
    if (a.size() > 3 && a.rfind("--", 0) == 0 && a.back() == '=') {
      std::cerr << tool << ": " << a.substr(0, a.size() - 1)
                << ": an empty value (give one, or leave the option out for its default)" << std::endl;
      return 2;
    }
  }
  const auto printed = [&] {  // exit status after printing help or the version
    const std::string lost = finish_stdout();
    if (lost.empty()) return 0;
    std::cerr << tool << ": " << lost << std::endl;
    return 1;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return printed();
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return printed();
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return printed();
  } catch (const CLI::ParseError& e) {
    if (const std::string why = explain ? explain(e) : ""; !why.empty()) {
      std::cerr << tool << ": " << why << std::endl;
      return 2;
    }
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    for (char& ch : msg)
      if (ch == '\n') ch = ' ';
    std::cerr << tool << ": " << msg << " (see " << tool << " --help)" << std::endl;
    return 2;
  }
  auto fail = [&](const std::string& msg, int code) {
    std::fflush(stdout);
    std::cerr << tool << ": " << msg << std::endl;
    return code;
  };
  try {
    body();
    const std::string lost = finish_stdout();
    return lost.empty() ? 0 : fail(lost, 1);
  } catch (const ExitRequest& e) {
    return fail(e.what(), e.code);
  } catch (const InputError& e) {
    return fail(e.what(), 2);
  } catch (const RunError& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory", 1);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what(), 1);
  }
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}


// ---- Progress ---------------------------------------------------------------

namespace {
std::string clock_str(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(std::string label, std::uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && isatty(STDERR_FILENO)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (enabled_ && !finished_) std::fputs("\n", stderr);
}

void Progress::update(std::uint64_t done, const std::string& extra) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most ten times a second, and always at the end.
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done, extra);
}

void Progress::draw(std::uint64_t done, const std::string& extra) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int width = 24;
  const int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar.resize(width, ' ');
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  std::fprintf(stderr, "\r%s [%s] %llu/%llu %3d%% %.0f/s %s %s %s\033[K", label_.c_str(), bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
               static_cast<int>(frac * 100), rate, done >= total_ ? "in" : "ETA",
               clock_str(done >= total_ ? elapsed : eta).c_str(), extra.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  std::fputs("\n", stderr);
}

}  // namespace symlearn::cli
