#include "io/h5.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/human_bytes.hpp"
#include "util/sha256.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace symlearn::io {
namespace {

// ---- HDF5's error stack -> one line ----------------------------------------

void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

herr_t first_error(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err->desc) *static_cast<std::string*>(out) = err->desc;
  return 0;
}

// The most specific message on HDF5's error stack (then cleared), e.g.
// "truncated file: eof = 1024, sblock->base_addr = 0, stored_eof = 2048".
std::string hdf5_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail;
}

std::string with_detail(const std::string& message) {
  const std::string d = hdf5_detail();
  return d.empty() ? message : message + " (" + d + ")";
}

// Closes an HDF5 handle of any kind when it goes out of scope.
class Handle {
 public:
  explicit Handle(hid_t id = -1) : id_(id) {}
  ~Handle() {
    if (id_ >= 0) H5Idec_ref(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
};

hid_t file_type(DType t) {
  switch (t) {
    case DType::f32: return H5T_IEEE_F32LE;
    case DType::f64: return H5T_IEEE_F64LE;
    case DType::i32: return H5T_STD_I32LE;
    case DType::i64: return H5T_STD_I64LE;
  }
  return H5T_IEEE_F64LE;
}

std::size_t type_size(DType t) { return (t == DType::f32 || t == DType::i32) ? 4 : 8; }

std::vector<hsize_t> dims_of(const Shape& s) { return std::vector<hsize_t>(s.begin(), s.end()); }

std::uint64_t count_of(const Shape& s) {
  std::uint64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// A creation property list of `cls` that records no timestamps: HDF5 stores
// modification times by default, which would make identical runs differ.
hid_t untimed_plist(hid_t cls) {
  const hid_t p = H5Pcreate(cls);
  H5Pset_obj_track_times(p, 0);
  return p;
}

Handle untimed(hid_t cls) { return Handle(untimed_plist(cls)); }

// File access for writing in the HDF5 1.10 format: its superblock, object
// headers (attributes included) and B-trees carry checksums, so corrupted
// metadata is detected on read. (HDF5 >= 1.10 and h5py read it.)
hid_t checksummed_fapl() {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110);
  return fapl;
}

std::string parent_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::uint64_t Array::stride() const {
  std::uint64_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

// ---- Reader -----------------------------------------------------------------

namespace {
// Whether a dataset claims more than the file stores for it: unwritten chunks
// read as fill values, so a header can claim terabytes in a few bytes.
// symlearn's files store every byte; compressed foreign files get 64x.
bool claims_more_than_stored(double bytes, hsize_t stored) {
  return bytes > 64.0 * static_cast<double>(stored) + double(1 << 20);
}

// Every object's metadata, attributes and (within a size budget) data, read
// in a child process: corrupted metadata can make the HDF5 library itself
// crash or loop, which no check in this process could survive. The child's
// verdict is only that it finished: errors it meets are found again, and
// reported properly, by the reads that follow.
herr_t probe_object(hid_t loc, const char* name, const H5O_info_t* info, void*) {
  if (info->type != H5O_TYPE_DATASET) return 0;
  const Handle ds(H5Dopen2(loc, name, H5P_DEFAULT));
  if (!ds.ok()) return 0;
  const Handle type(H5Dget_type(ds.get())), space(H5Dget_space(ds.get()));
  if (!type.ok() || !space.ok()) return 0;
  const Handle native(H5Tget_native_type(type.get(), H5T_DIR_DEFAULT));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const std::size_t size = native.ok() ? H5Tget_size(native.get()) : 0;
  const H5T_class_t cls = H5Tget_class(type.get());
  // Numeric data only, and only what the parent would read too.
  const double bytes = double(n) * double(size);
  if (n > 0 && size > 0 && (cls == H5T_INTEGER || cls == H5T_FLOAT) && bytes <= double(1u << 30) &&
      !claims_more_than_stored(bytes, H5Dget_storage_size(ds.get()))) {
    std::vector<char> buf(static_cast<std::size_t>(n) * size);
    H5Dread(ds.get(), native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
  }
  return 0;
}

herr_t probe_attribute(hid_t loc, const char* name, const H5A_info_t*, void*) {
  const Handle a(H5Aopen(loc, name, H5P_DEFAULT));
  if (!a.ok()) return 0;
  const Handle type(H5Aget_type(a.get())), space(H5Aget_space(a.get()));
  if (type.ok() && space.ok() && H5Tget_class(type.get()) == H5T_STRING && H5Tis_variable_str(type.get()) > 0 &&
      H5Sget_simple_extent_npoints(space.get()) == 1) {
    char* value = nullptr;
    if (H5Aread(a.get(), type.get(), &value) >= 0 && value) H5free_memory(value);
  }
  return 0;
}

herr_t probe_attributes_of(hid_t loc, const char* name, const H5O_info_t*, void*) {
  const Handle obj(H5Oopen(loc, name, H5P_DEFAULT));
  if (!obj.ok()) return 0;
  hsize_t at = 0;
  H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_NATIVE, &at, probe_attribute, nullptr);
  return 0;
}

// Throws InputError when reading `path` crashes or hangs the HDF5 library.
void probe_in_child(const std::string& path, const std::string& name) {
  struct stat st {};
  stat(path.c_str(), &st);
  // Generous: 10 s (SYMLEARN_PROBE_SECONDS overrides, e.g. for the fuzz tests) plus 1 s per 20 MB.
  const char* base = std::getenv("SYMLEARN_PROBE_SECONDS");
  const double base_s = base && std::atof(base) > 0 ? std::atof(base) : 10.0;
  const double limit_s = base_s + static_cast<double>(st.st_size) / 20e6;
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return;  // no probe possible: read as before
  if (child == 0) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);  // the parent's temporaries are its own
    // Quiet: a sanitizer's report from inside HDF5 is this probe's verdict, not output.
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDERR_FILENO);
    silence_hdf5();
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
      H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, probe_attributes_of, nullptr);
      H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, probe_object, nullptr);
    }
    _exit(0);  // no atexit handlers, no HDF5 shutdown: the parent owns the process's state
  }
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) return;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > limit_s) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      char s[32];
      std::snprintf(s, sizeof s, "%.0f", limit_s);
      throw InputError(name + ": corrupt: the HDF5 library did not finish reading its structure in " + s +
                       " s (damaged metadata?)");
    }
    usleep(1000);
  }
  if (WIFSIGNALED(status))
    throw InputError(name + ": corrupt: the HDF5 library crashed reading its structure (signal " +
                     std::to_string(WTERMSIG(status)) + ")");
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)  // e.g. a sanitizer's abort inside HDF5
    throw InputError(name + ": corrupt: the HDF5 library failed reading its structure");
}
}  // namespace

Reader::Reader(const std::string& path, const std::string& format) {
  silence_hdf5();
  if (is_stdio(path)) {
    name_ = "<stdin>";
    if (isatty(STDIN_FILENO))
      throw InputError("<stdin>: is a terminal; pipe an HDF5 file in or give a path");
    // HDF5 needs a seekable file: stdin is spooled to a temporary file
    // (memory stays flat whatever its size), hashed on the way, opened, and
    // unlinked at once (the open descriptors keep it; a signal while spooling
    // removes it).
    const char* dir = std::getenv("TMPDIR");
    const std::string spool_name = std::string(dir && *dir ? dir : "/tmp") + "/symlearn-stdin";
    std::string tmp;
    try {
      spool_ = create_temp_beside(spool_name, tmp);
    } catch (const InputError& e) {  // "DIR/symlearn-stdin: cannot create a file in DIR: REASON"
      const std::string why = e.what();
      throw InputError("<stdin>: cannot make a temporary file in " + spool_name.substr(0, spool_name.rfind('/')) + ": " +
                       why.substr(why.rfind(": ") + 2) + " (set TMPDIR, or give a path)");
    }
    struct Unlink {  // however the constructor leaves, the directory entry goes
      std::string path, spool_name;
      ~Unlink() {
        ::unlink(path.c_str());
        unregister_temp_file(path);
        remove_stale_temps(spool_name);  // spools of readers killed with SIGKILL
      }
    } unlink_tmp{tmp, spool_name};
    Sha256 h;
    std::uint64_t total = 0;
    char buf[1 << 16];
    // HDF5's signature sits at offset 0 or after a user block of 512, 1024, ... bytes: look for it as the
    // bytes arrive and refuse a stream without one at once (`- < /dev/zero` is never buffered whole).
    static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    constexpr std::uint64_t kLastUserBlock = 1 << 16;
    std::string head;  // the first kLastUserBlock + 8 bytes
    std::uint64_t candidate = 0;
    bool signed_ = false;
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);  // fd 0, what isatty checked, unbuffered
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        throw InputError(std::string("<stdin>: cannot read: ") + std::strerror(errno));
      }
      if (head.size() < kLastUserBlock + 8)
        head.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), kLastUserBlock + 8 - head.size()));
      while (!signed_ && candidate + 8 <= head.size()) {
        signed_ = std::memcmp(head.data() + candidate, kSignature, 8) == 0;
        if (signed_) break;
        candidate = candidate == 0 ? 512 : candidate * 2;
        if (candidate > kLastUserBlock) throw InputError("<stdin>: not an HDF5 file (no HDF5 signature)");
      }
      h.update(buf, static_cast<std::size_t>(n));
      total += static_cast<std::uint64_t>(n);
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = ::write(spool_, buf + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0)
          throw InputError(std::string("<stdin>: cannot spool to a temporary file: ") + std::strerror(errno) +
                           " (set TMPDIR, or give a path)");
        done += w;
      }
    }
    if (total == 0) throw InputError("<stdin>: is empty (expected an HDF5 file)");
    if (!signed_) throw InputError("<stdin>: not an HDF5 file (no HDF5 signature)");
    stdin_sha256_ = h.hex();
    if (H5Fis_hdf5(tmp.c_str()) <= 0) throw InputError("<stdin>: not an HDF5 file");
    probe_in_child(tmp, name_);
    file_ = H5Fopen(tmp.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  } else {
    name_ = path_ = path;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw InputError(path + ": " + std::strerror(errno));
    note_input_file(path);
    if (S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory");
    if (H5Fis_hdf5(path.c_str()) <= 0) {
      hdf5_detail();
      throw InputError(path + ": not an HDF5 file");
    }
    probe_in_child(path, name_);
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  }
  if (file_ < 0) throw InputError(with_detail(name_ + ": cannot open as HDF5 (truncated or corrupt?)"));

  if (format.empty()) return;
  if (!has_attr("/", "symlearn_format"))
    throw InputError(name_ + ": not a symlearn file (no symlearn_format attribute)");
  const std::string got = attr_string("/", "symlearn_format");
  if (got != format) throw InputError(name_ + ": is a " + got + " file, expected a " + format + " file");
  if (!has_attr("/", "symlearn_version"))
    throw InputError(name_ + ": has no symlearn_version attribute");
  const auto version = attr_int("/", "symlearn_version");
  if (version != kFormatVersion)
    throw InputError(name_ + ": has format version " + std::to_string(version) +
                     "; this symlearn reads version " + std::to_string(kFormatVersion));
}

Reader::~Reader() {
  if (file_ >= 0) H5Fclose(file_);
  if (spool_ >= 0) ::close(spool_);
}

bool Reader::has(const std::string& object) const {
  // Check each link on the way so that a missing parent is not an error.
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos && pos < object.size()) {
    const std::size_t next = object.find('/', pos + 1);
    partial = object.substr(0, next);
    if (partial != "/" && partial.size() > 0) {
      if (H5Lexists(file_, partial.c_str(), H5P_DEFAULT) <= 0) {
        hdf5_detail();
        return false;
      }
    }
    pos = next;
  }
  return true;
}

long long Reader::open_object(const std::string& object) const {
  if (!has(object)) throw InputError(name_ + ": missing " + object);
  const hid_t id = H5Oopen(file_, object.c_str(), H5P_DEFAULT);
  if (id < 0) throw InputError(with_detail(name_ + ": cannot open " + object));
  return id;
}

Shape Reader::shape(const std::string& dataset) const {
  Handle ds(open_object(dataset));
  if (H5Iget_type(ds.get()) != H5I_DATASET) throw InputError(name_ + ": " + dataset + " is not a dataset");
  Handle space(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw InputError(with_detail(name_ + ": " + dataset + " has an unreadable shape"));
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return Shape(dims.begin(), dims.end());
}

Array Reader::read(const std::string& dataset, const ShapePattern& expect) const {
  Array out;
  out.shape = shape(dataset);
  if (!expect.empty()) {
    bool ok = expect.size() == out.shape.size();
    for (std::size_t i = 0; ok && i < expect.size(); ++i)
      ok = expect[i] < 0 || static_cast<std::uint64_t>(expect[i]) == out.shape[i];
    if (!ok) {
      std::string want = "[";
      for (std::size_t i = 0; i < expect.size(); ++i)
        want += (i ? "," : "") + (expect[i] < 0 ? std::string("*") : std::to_string(expect[i]));
      throw InputError(name_ + ": " + dataset + " has shape " + shape_str(out.shape) + " but " +
                       want + "] was expected");
    }
  }
  out.data.resize(checked_count(dataset, out.shape, sizeof(double)));
  read_numeric(dataset, H5T_NATIVE_DOUBLE, out.data.data(), out.data.size());
  for (double v : out.data)
    if (!std::isfinite(v)) throw InputError(name_ + ": " + dataset + " contains NaN or Inf");
  return out;
}

std::vector<float> Reader::read_floats(const std::string& dataset) const {
  std::vector<float> out(checked_count(dataset, shape(dataset), sizeof(float)));
  read_numeric(dataset, H5T_NATIVE_FLOAT, out.data(), out.size());
  for (float v : out)
    if (!std::isfinite(v)) throw InputError(name_ + ": " + dataset + " contains NaN or Inf (as float32)");
  return out;
}

void Reader::read_numeric(const std::string& dataset, long long mem_type, void* out, std::uint64_t count) const {
  Handle ds(open_object(dataset));
  Handle type(H5Dget_type(ds.get()));
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) throw InputError(name_ + ": " + dataset + " is not numeric");
  if (count > 0 && H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    throw InputError(unreadable(dataset));
}

std::string Reader::unreadable(const std::string& dataset) const {
  // A Fletcher32 mismatch (symlearn's own files checksum every chunk) or data
  // past the end of a truncated file: either way the bytes are not what was written.
  return with_detail(name_ + ": " + dataset + " cannot be read: the file is corrupt or truncated");
}

std::uint64_t Reader::checked_count(const std::string& dataset, const Shape& s, std::size_t element) const {
  // A corrupted header can claim any extent: refuse what cannot fit in this
  // machine's memory (or overflows) before allocating, with one clear line.
  static const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  double bytes = static_cast<double>(element);
  for (auto d : s) bytes *= static_cast<double>(d);
  if (bytes > memory) {
    char need[64];
    std::snprintf(need, sizeof need, "%.3g GB", bytes / 1e9);
    throw InputError(name_ + ": " + dataset + " " + shape_str(s) + " would need " + need +
                     ", more than this machine's memory (corrupt header?)");
  }
  // Nor what the file does not hold.
  Handle ds(open_object(dataset));
  const hsize_t stored = H5Dget_storage_size(ds.get());
  if (claims_more_than_stored(bytes, stored))
    throw InputError(name_ + ": " + dataset + " " + shape_str(s) + " claims " + std::to_string(count_of(s)) +
                     " elements but the file stores " + std::to_string(stored) + " bytes of them (corrupt header?)");
  return count_of(s);
}

std::vector<std::int64_t> Reader::read_ints(const std::string& dataset, Shape* shape_out) const {
  const Shape s = shape(dataset);
  Handle ds(open_object(dataset));
  Handle type(H5Dget_type(ds.get()));
  if (H5Tget_class(type.get()) != H5T_INTEGER)
    throw InputError(name_ + ": " + dataset + " is not an integer dataset");
  std::vector<std::int64_t> out(checked_count(dataset, s, sizeof(std::int64_t)));
  if (!out.empty() &&
      H5Dread(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw InputError(unreadable(dataset));
  if (shape_out) *shape_out = s;
  return out;
}

std::vector<std::string> Reader::read_strings(const std::string& dataset) const {
  const Shape s = shape(dataset);
  Handle ds(open_object(dataset));
  Handle type(H5Dget_type(ds.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    throw InputError(name_ + ": " + dataset + " is not a variable-length string dataset");
  std::vector<char*> raw(checked_count(dataset, s, sizeof(char*)), nullptr);
  Handle mem(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem.get(), H5T_VARIABLE);
  H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
  if (!raw.empty() && H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
    throw InputError(unreadable(dataset));
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (char* p : raw) out.emplace_back(p ? p : "");
  if (!raw.empty()) {
    Handle space(H5Dget_space(ds.get()));
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
  }
  return out;
}

bool Reader::has_attr(const std::string& object, const std::string& attr) const {
  if (!has(object)) return false;
  const htri_t r = H5Aexists_by_name(file_, object.c_str(), attr.c_str(), H5P_DEFAULT);
  if (r < 0) hdf5_detail();
  return r > 0;
}

std::string Reader::attr_string(const std::string& object, const std::string& attr) const {
  const std::string what = name_ + ": attribute " + attr + " of " + object;
  if (!has_attr(object, attr)) throw InputError(name_ + ": missing attribute " + attr + " of " + object);
  Handle a(H5Aopen_by_name(file_, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  Handle type(H5Aget_type(a.get()));
  if (!a.ok() || H5Tget_class(type.get()) != H5T_STRING) throw InputError(what + " is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));  // HDF5 converts no ASCII <-> UTF-8
    char* p = nullptr;
    if (H5Aread(a.get(), mem.get(), &p) < 0) throw InputError(with_detail(what + " cannot be read"));
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t n = H5Tget_size(type.get());
  std::string s(n, '\0');
  Handle mem(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem.get(), n);
  H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
  if (H5Aread(a.get(), mem.get(), s.data()) < 0) throw InputError(with_detail(what + " cannot be read"));
  s.resize(std::strlen(s.c_str()));
  return s;
}

std::int64_t Reader::attr_int(const std::string& object, const std::string& attr) const {
  const std::string what = name_ + ": attribute " + attr + " of " + object;
  if (!has_attr(object, attr)) throw InputError(name_ + ": missing attribute " + attr + " of " + object);
  Handle a(H5Aopen_by_name(file_, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  Handle type(H5Aget_type(a.get()));
  Handle space(H5Aget_space(a.get()));
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Sget_simple_extent_npoints(space.get()) != 1)
    throw InputError(what + " is not an integer");
  std::int64_t v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) throw InputError(with_detail(what + " cannot be read"));
  return v;
}

nlohmann::json Reader::config() const {
  const std::string text = attr_string("/", "config");
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) throw InputError(name_ + ": the config attribute is not a JSON object");
    return j;
  } catch (const nlohmann::json::exception&) {
    throw InputError(name_ + ": the config attribute is not valid JSON");
  }
}

std::string Reader::sha256() const {
  return path_.empty() ? stdin_sha256_ : sha256_file(path_);
}

std::vector<std::string> Reader::list(const std::string& group) const {
  Handle g(open_object(group));
  H5G_info_t info{};
  if (H5Gget_info(g.get(), &info) < 0) throw InputError(with_detail(name_ + ": " + group + " is not a group"));
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) continue;
    std::string s(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<std::size_t>(n));
    names.push_back(s);
  }
  return names;
}

// ---- Writer -----------------------------------------------------------------

void refuse_terminal(const std::string& target) {
  struct stat st {};
  const bool tty = is_stdio(target) ? isatty(STDOUT_FILENO) != 0
                                    : stat(target.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && is_terminal_path(target);
  if (tty)
    throw InputError((is_stdio(target) ? std::string("<stdout>") : target) +
                     ": is a terminal; refusing to write binary HDF5 there (use -o FILE or a pipe)");
}

Writer::Writer(const std::string& target, const std::string& format, const std::string& created_by,
               const nlohmann::json& config)
    : target_(target) {
  silence_hdf5();
  struct stat st {};
  const bool exists = !is_stdio(target) && stat(target.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw InputError(target + ": is a directory");
  refuse_input_as_output(target);
  if (is_stdio(target) || (exists && !S_ISREG(st.st_mode))) {
    name_ = is_stdio(target) ? "<stdout>" : target;
    refuse_terminal(target);
    // Built in a temporary file in TMPDIR and copied out on commit (HDF5's
    // in-memory image of a 1.10-format file carries a stale superblock checksum).
    in_memory_ = true;
    const char* dir = std::getenv("TMPDIR");
    close(create_temp_beside(std::string(dir && *dir ? dir : "/tmp") + "/symlearn-out.h5", temp_));
    file_ = H5Fcreate(temp_.c_str(), H5F_ACC_TRUNC, untimed(H5P_FILE_CREATE).get(), Handle(checksummed_fapl()).get());
  } else {
    name_ = target;
    close(create_temp_beside(target, temp_));
    file_ = H5Fcreate(temp_.c_str(), H5F_ACC_TRUNC, untimed(H5P_FILE_CREATE).get(), Handle(checksummed_fapl()).get());
  }
  if (file_ < 0) {
    const std::string msg = with_detail(name_ + ": cannot create HDF5 file");
    discard();
    throw RunError(msg);
  }
  attr("/", "symlearn_format", format);
  attr("/", "symlearn_version", static_cast<std::int64_t>(kFormatVersion));
  attr("/", "created_by", created_by);
  attr("/", "config", config.dump());
}

Writer::~Writer() { discard(); }

void Writer::discard() noexcept {
  if (file_ >= 0) {
    H5Fclose(file_);
    file_ = -1;
  }
  if (!temp_.empty()) {
    unlink(temp_.c_str());
    unregister_temp_file(temp_);
    temp_.clear();
  }
}

namespace {
hid_t intermediate_lcpl() {
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  H5Pset_char_encoding(lcpl, H5T_CSET_UTF8);
  return lcpl;
}
}  // namespace

void Writer::group(const std::string& path) {
  if (path == "/" || path.empty() || H5Lexists(file_, path.c_str(), H5P_DEFAULT) > 0) return;
  hdf5_detail();
  group(parent_of(path));  // parents first, so that they too carry no timestamps
  Handle lcpl(intermediate_lcpl());
  Handle g(H5Gcreate2(file_, path.c_str(), lcpl.get(), untimed(H5P_GROUP_CREATE).get(), H5P_DEFAULT));
  if (!g.ok()) throw RunError(with_detail(name_ + ": cannot create group " + path));
}

namespace {

// The system's reason for a failed write (ENOSPC, EDQUOT, EIO...), when HDF5's
// write(2) left one in errno: ": No space left on device", else "".
std::string system_reason(int err) { return err ? std::string(": ") + std::strerror(err) : ""; }
}  // namespace

void Writer::reserve(std::uint64_t bytes) {
  planned_ += bytes;
  const std::string dir = temp_.substr(0, temp_.rfind('/') + (temp_.rfind('/') == 0));
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return;
  double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  if (const char* fake = std::getenv("SYMLEARN_FREE_BYTES_FOR_TESTS")) free_bytes = std::atof(fake);
  // Data only: HDF5's metadata adds little (chunk indexes, checksums).
  if (static_cast<double>(planned_) > free_bytes)
    throw RunError(name_ + ": needs about " + human_bytes(static_cast<double>(planned_)) + " of disk space but " +
                   dir + " has " + human_bytes(free_bytes) + " free");
}

void Writer::create(const std::string& dataset, const Shape& shape, DType stored) {
  reserve(count_of(shape) * type_size(stored));
  const auto dims = dims_of(shape);
  Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  group(parent_of(dataset));
  Handle dcpl(untimed(H5P_DATASET_CREATE));
  const std::uint64_t total = count_of(shape);
  if (!shape.empty() && total > 0) {
    // Chunks of whole leading slices, about 1 MiB each, so slabs align with
    // chunks; each chunk carries a Fletcher32 checksum that HDF5 verifies on
    // every read, so a flipped byte in the data is an error, not a value.
    const std::uint64_t slice = total / shape[0] * type_size(stored);
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::clamp<hsize_t>((1u << 20) / std::max<std::uint64_t>(slice, 1), 1, dims[0]);
    if (slice * chunk[0] < (std::uint64_t(1) << 32)) {
      H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
      H5Pset_fletcher32(dcpl.get());
    }
  }
  Handle lcpl(intermediate_lcpl());
  Handle ds(H5Dcreate2(file_, dataset.c_str(), file_type(stored), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  if (!ds.ok()) throw RunError(with_detail(name_ + ": cannot create dataset " + dataset));
}

void Writer::slab(const std::string& dataset, std::uint64_t first, std::uint64_t count, const void* data,
                  long long mem_type) {
  Handle ds(H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT));
  if (!ds.ok()) throw RunError(with_detail(name_ + ": no dataset " + dataset));
  Handle fspace(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(fspace.get());
  if (count == 0) return;
  herr_t status;
  errno = 0;
  if (rank == 0) {
    status = H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  } else {
    std::vector<hsize_t> dims(rank), start(rank, 0);
    H5Sget_simple_extent_dims(fspace.get(), dims.data(), nullptr);
    if (first + count > dims[0]) throw std::logic_error("write_slab past the end of " + dataset);
    start[0] = first;
    dims[0] = count;
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, dims.data(), nullptr);
    Handle mspace(H5Screate_simple(rank, dims.data(), nullptr));
    status = H5Dwrite(ds.get(), mem_type, mspace.get(), fspace.get(), H5P_DEFAULT, data);
  }
  if (status < 0) {
    const int err = errno;
    throw RunError(with_detail(name_ + ": cannot write " + dataset + system_reason(err)));
  }
}

void Writer::write_slab(const std::string& dataset, std::uint64_t first, std::uint64_t count, const float* data) {
  slab(dataset, first, count, data, H5T_NATIVE_FLOAT);
}
void Writer::write_slab(const std::string& dataset, std::uint64_t first, std::uint64_t count, const double* data) {
  slab(dataset, first, count, data, H5T_NATIVE_DOUBLE);
}
void Writer::write_slab(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                        const std::int64_t* data) {
  slab(dataset, first, count, data, H5T_NATIVE_INT64);
}

void Writer::write(const std::string& dataset, const Shape& shape, const double* data, DType stored) {
  create(dataset, shape, stored);
  slab(dataset, 0, shape.empty() ? 1 : shape[0], data, H5T_NATIVE_DOUBLE);
}
void Writer::write(const std::string& dataset, const Shape& shape, const float* data) {
  create(dataset, shape, DType::f32);
  slab(dataset, 0, shape.empty() ? 1 : shape[0], data, H5T_NATIVE_FLOAT);
}
void Writer::write(const std::string& dataset, const Shape& shape, const std::int64_t* data, DType stored) {
  create(dataset, shape, stored);
  slab(dataset, 0, shape.empty() ? 1 : shape[0], data, H5T_NATIVE_INT64);
}

void Writer::write_strings(const std::string& dataset, const Shape& shape, const std::vector<std::string>& values) {
  if (values.size() != count_of(shape)) throw std::logic_error("write_strings: size does not match shape");
  const auto dims = dims_of(shape);
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle lcpl(intermediate_lcpl());
  group(parent_of(dataset));
  Handle dcpl(untimed(H5P_DATASET_CREATE));
  Handle ds(H5Dcreate2(file_, dataset.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!ds.ok() || (!ptrs.empty() && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0))
    throw RunError(with_detail(name_ + ": cannot write " + dataset));
}

namespace {
// Opens `object` and replaces its attribute `name` with a scalar of `type`.
void put_attr(hid_t file, const std::string& file_name, const std::string& object, const std::string& name,
              hid_t type, hid_t mem_type, const void* value) {
  Handle obj(H5Oopen(file, object.c_str(), H5P_DEFAULT));
  if (obj.ok() && H5Aexists(obj.get(), name.c_str()) > 0) H5Adelete(obj.get(), name.c_str());
  Handle space(H5Screate(H5S_SCALAR));
  Handle a(obj.ok() ? H5Acreate2(obj.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT) : -1);
  if (!a.ok() || H5Awrite(a.get(), mem_type, value) < 0)
    throw RunError(with_detail(file_name + ": cannot write attribute " + name + " of " + object));
}
}  // namespace

void Writer::attr(const std::string& object, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const char* p = value.c_str();
  put_attr(file_, name_, object, name, type.get(), type.get(), &p);
}
void Writer::attr(const std::string& object, const std::string& name, std::int64_t value) {
  put_attr(file_, name_, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}
void Writer::attr(const std::string& object, const std::string& name, double value) {
  put_attr(file_, name_, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

std::uint64_t Writer::commit() {
  if (file_ < 0) throw std::logic_error("Writer::commit called twice");
  errno = 0;
  if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) {
    const int err = errno;
    throw RunError(with_detail(name_ + ": cannot flush" + system_reason(err)));
  }
  if (in_memory_) {
    errno = 0;
    const herr_t closed = H5Fclose(file_);
    const int err = errno;
    file_ = -1;
    if (closed < 0) throw RunError(with_detail(name_ + ": cannot close" + system_reason(err)));
    std::FILE* in = std::fopen(temp_.c_str(), "rb");
    std::FILE* out = is_stdio(target_) ? stdout : std::fopen(target_.c_str(), "wb");
    if (!in || !out) {
      if (in) std::fclose(in);
      throw RunError(name_ + ": cannot open for writing: " + std::strerror(errno));
    }
    std::vector<char> block(1 << 20);
    std::uint64_t total = 0;
    bool ok = true;
    int err_out = 0;
    for (std::size_t got; ok && (got = std::fread(block.data(), 1, block.size(), in)) > 0; total += got)
      if (!(ok = std::fwrite(block.data(), 1, got, out) == got)) err_out = errno;
    if (ok && (std::ferror(in) || std::fflush(out) != 0)) ok = false, err_out = errno;
    std::fclose(in);
    if (out != stdout && std::fclose(out) != 0 && ok) ok = false, err_out = errno;
    const std::string spool = temp_;
    discard();
    if (!ok) throw RunError(name_ + ": write failed: " + std::strerror(err_out ? err_out : EIO));
    remove_stale_temps(spool.substr(0, spool.rfind('/') + 1) + "symlearn-out.h5");
    return total;
  }
  errno = 0;
  const herr_t closed = H5Fclose(file_);
  const int err = errno;
  file_ = -1;
  if (closed < 0) throw RunError(with_detail(name_ + ": cannot close" + system_reason(err)));
  struct stat st {};
  stat(temp_.c_str(), &st);
  signal_point("commit:" + target_.substr(target_.rfind('/') + 1));
  if (std::rename(temp_.c_str(), target_.c_str()) != 0)
    throw RunError(target_ + ": cannot move the output into place: " + std::strerror(errno));
  unregister_temp_file(temp_);
  temp_.clear();
  remove_stale_temps(target_);
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace symlearn::io
