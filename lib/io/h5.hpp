// HDF5 files in the symlearn schema (design.md section 3).
//
// - A path of "-" reads an HDF5 file from stdin / writes one to stdout. HDF5
//   needs a seekable file, so stdin is spooled to a temporary file in TMPDIR
//   (unlinked once open); stdout output is built in a temporary file there
//   and copied out on commit(). Binary is never written to a terminal.
// - Output goes to a temporary file beside the target, renamed on commit();
//   on failure, destruction or SIGINT/SIGTERM the temporary file is removed
//   and an existing target is left untouched. A target that exists but is not
//   a regular file (/dev/null, a FIFO) is written in place like stdout: a
//   rename would replace the device itself.
// - Files are written in the HDF5 1.10 format (checksummed metadata) with
//   every non-empty dataset chunked and Fletcher32-checksummed: corruption of
//   a symlearn-written file is an error on read, never a silent value.
// - HDF5's own error stack is never printed: failures become InputError
//   (bad input, exit 2) or RunError (exit 1) with one line naming the file.
//
// Arrays are row-major ("C order", as HDF5 and h5py see them); float32 and
// float64 datasets are both read as double.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace symlearn::io {

constexpr int kFormatVersion = 1;

using Shape = std::vector<std::uint64_t>;
std::string shape_str(const Shape& shape);  // "[8000,20,70]"

enum class DType { f32, f64, i32, i64 };

// A dense row-major array read from a file.
struct Array {
  Shape shape;
  std::vector<double> data;
  std::uint64_t size() const { return data.size(); }
  // Product of the dimensions after the first: the stride of one leading index.
  std::uint64_t stride() const;
};

// Expected shape for a check: -1 matches any extent.
using ShapePattern = std::vector<long long>;

class Reader {
 public:
  // Opens `path` ("-" = stdin) and checks the symlearn_format root attribute
  // (when `format` is not empty) and symlearn_version.
  explicit Reader(const std::string& path, const std::string& format = "");
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // The name used in messages: the path, or "<stdin>".
  const std::string& name() const { return name_; }

  bool has(const std::string& object) const;
  Shape shape(const std::string& dataset) const;
  // Reads a numeric dataset as double. Checks the shape against `expect` (when
  // given) and that every value is finite.
  Array read(const std::string& dataset, const ShapePattern& expect = {}) const;
  // The same as float32 (what gen-tasks stores): half the memory of read().
  std::vector<float> read_floats(const std::string& dataset) const;
  std::vector<std::int64_t> read_ints(const std::string& dataset, Shape* shape = nullptr) const;
  std::vector<std::string> read_strings(const std::string& dataset) const;

  bool has_attr(const std::string& object, const std::string& attr) const;
  std::string attr_string(const std::string& object, const std::string& attr) const;
  std::int64_t attr_int(const std::string& object, const std::string& attr) const;
  nlohmann::json config() const;  // the root `config` attribute, parsed

  // SHA-256 of the file's bytes (as `sha256sum` prints it), for provenance.
  std::string sha256() const;

  // Names of the members of a group, sorted.
  std::vector<std::string> list(const std::string& group) const;

 private:
  long long open_object(const std::string& object) const;
  // The element count of `dataset`; InputError when it cannot fit in memory.
  std::uint64_t checked_count(const std::string& dataset, const Shape& shape, std::size_t element) const;
  void read_numeric(const std::string& dataset, long long mem_type, void* out, std::uint64_t count) const;
  std::string unreadable(const std::string& dataset) const;  // the message for a failed read
  std::string name_;
  std::string path_;           // empty for stdin
  int spool_ = -1;             // stdin: the (unlinked) temporary file holding its bytes
  std::string stdin_sha256_;   // stdin: the SHA-256 of its bytes
  long long file_ = -1;
};

class Writer {
 public:
  // Starts a new file for `target` ("-" = stdout) with the root attributes
  // every symlearn file carries. Refuses to write binary to a terminal.
  Writer(const std::string& target, const std::string& format, const std::string& created_by,
         const nlohmann::json& config);
  ~Writer();  // without commit(): removes the temporary file
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  const std::string& name() const { return name_; }

  void group(const std::string& path);  // creates missing parents too
  // Whole datasets from row-major data; `stored` is the type on disk.
  void write(const std::string& dataset, const Shape& shape, const double* data,
             DType stored = DType::f64);
  void write(const std::string& dataset, const Shape& shape, const float* data);
  void write(const std::string& dataset, const Shape& shape, const std::int64_t* data,
             DType stored = DType::i64);
  void write_strings(const std::string& dataset, const Shape& shape,
                     const std::vector<std::string>& values);

  // Streaming: create a dataset chunked along its first dimension, then fill
  // slabs [first, first + count) of that dimension.
  void create(const std::string& dataset, const Shape& shape, DType stored);
  void write_slab(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                  const float* data);
  void write_slab(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                  const double* data);
  void write_slab(const std::string& dataset, std::uint64_t first, std::uint64_t count,
                  const std::int64_t* data);

  void attr(const std::string& object, const std::string& name, const std::string& value);
  void attr(const std::string& object, const std::string& name, std::int64_t value);
  void attr(const std::string& object, const std::string& name, double value);

  // Counts `bytes` more of planned data and refuses (RunError naming both
  // figures) when the temporary file's filesystem has less free space than
  // all planned so far. create() and write() call it with each dataset's size.
  void reserve(std::uint64_t bytes);

  // Closes the file and moves it into place (or writes it to stdout).
  // Returns the number of bytes written.
  std::uint64_t commit();

 private:
  void slab(const std::string& dataset, std::uint64_t first, std::uint64_t count,
            const void* data, long long mem_type);
  void discard() noexcept;
  std::string name_;
  std::string target_;
  std::string temp_;
  std::uint64_t planned_ = 0;  // bytes of data announced so far (reserve)
  bool in_memory_ = false;  // built in a TMPDIR file, copied to stdout or a device on commit
  long long file_ = -1;
};

// Whether `path` names standard input/output.
inline bool is_stdio(const std::string& path) { return path == "-"; }

// InputError when `target` ("-" = stdout) is a terminal: binary HDF5 is never
// written there. Writer checks it; a long run checks it before it starts.
void refuse_terminal(const std::string& target);

}  // namespace symlearn::io
