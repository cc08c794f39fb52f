// HDF5 layer: round trips, shape checks, schema checks, atomic writes.
#include "io/h5.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

using namespace symlearn;
using symlearn::io::DType;

namespace {
using testutil::TempDir;

std::string read_text(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}
}  // namespace

TEST_CASE("io: datasets and attributes round trip") {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  const double d[6] = {1.5, -2, 3, 4, 5, 6.25};
  const float f[4] = {0.5f, 1.5f, -2.5f, 3.5f};
  const std::int64_t ints[3] = {7, -8, 9};
  {
    io::Writer w(path, "tasks", "unit 1", {{"seed", 4}});
    w.write("/g/d64", {2, 3}, d);
    w.write("/g/d32", {2, 3}, d, DType::f32);
    w.write("/f", {2, 1, 2}, f);
    w.write("/i", {3}, ints);
    w.write_strings("/s", {2}, {"one", "two"});
    w.attr("/g/d64", "role", std::string("symmetry"));
    w.attr("/", "steps", std::int64_t(12));
    CHECK(w.commit() > 0);
  }
  io::Reader r(path, "tasks");
  CHECK(r.attr_string("/", "created_by") == "unit 1");
  CHECK(r.attr_int("/", "symlearn_version") == io::kFormatVersion);
  CHECK(r.config()["seed"] == 4);
  CHECK(r.attr_int("/", "steps") == 12);
  CHECK(r.attr_string("/g/d64", "role") == "symmetry");
  const auto a = r.read("/g/d64", {2, 3});
  CHECK(a.shape == io::Shape{2, 3});
  for (int i = 0; i < 6; ++i) CHECK(a.data[i] == d[i]);
  const auto b = r.read("/g/d32", {-1, 3});  // float32 on disk, read as double
  CHECK(b.data[5] == 6.25);
  CHECK(r.read("/f").shape == io::Shape{2, 1, 2});
  CHECK(r.read("/f").data[2] == -2.5);
  CHECK(r.read("/f").stride() == 2);
  CHECK(r.read_ints("/i") == std::vector<std::int64_t>{7, -8, 9});
  CHECK(r.read_strings("/s") == std::vector<std::string>{"one", "two"});
  CHECK(r.list("/g") == std::vector<std::string>{"d32", "d64"});
  CHECK(r.has("/g/d64"));
  CHECK_FALSE(r.has("/nope/deeper"));
}

TEST_CASE("io: shape, content and schema checks give one clear line") {
  TempDir dir;
  const std::string path = dir.file("m.h5");
  {
    io::Writer w(path, "model", "unit", nlohmann::json::object());
    const double u[4] = {1, 2, std::numeric_limits<double>::quiet_NaN(), 4};
    w.write("/params/U", {4, 1}, u);
    const double ok[2] = {1, 2};
    w.write("/params/v", {2}, ok);
    w.commit();
  }
  io::Reader r(path);
  CHECK(error_of([&] { r.read("/params/v", {3}); }) == path + ": /params/v has shape [2] but [3] was expected");
  CHECK(error_of([&] { r.read("/params/v", {2, 1}); }) ==
        path + ": /params/v has shape [2] but [2,1] was expected");
  CHECK(error_of([&] { r.read("/params/U"); }) == path + ": /params/U contains NaN or Inf");
  CHECK(error_of([&] { r.read("/params/W"); }) == path + ": missing /params/W");
  CHECK(error_of([&] { io::Reader x(path, "tasks"); }) == path + ": is a model file, expected a tasks file");

  const std::string v2 = dir.file("v2.h5");
  {
    io::Writer w(v2, "tasks", "unit", nlohmann::json::object());
    w.attr("/", "symlearn_version", std::int64_t(2));
    w.commit();
  }
  CHECK(error_of([&] { io::Reader x(v2, "tasks"); }) ==
        v2 + ": has format version 2; this symlearn reads version 1");
}

TEST_CASE("io: files that are not symlearn HDF5") {
  TempDir dir;
  CHECK(error_of([&] { io::Reader r(dir.file("missing.h5")); }) ==
        dir.file("missing.h5") + ": No such file or directory");
  CHECK(error_of([&] { io::Reader r(dir.path); }) == dir.path + ": is a directory");
  std::ofstream(dir.file("text.h5")) << "not hdf5\n";
  CHECK(error_of([&] { io::Reader r(dir.file("text.h5")); }) == dir.file("text.h5") + ": not an HDF5 file");

  // A plain HDF5 file with no symlearn attributes.
  const std::string plain = dir.file("plain.h5");
  {
    io::Writer w(plain, "tasks", "unit", nlohmann::json::object());
    const double x[1000] = {};
    w.write("/x", {1000}, x);
    w.commit();
  }
  // Truncated: keep the first half of the bytes.
  const std::string bytes = read_text(plain);
  std::ofstream(dir.file("cut.h5"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string msg = error_of([&] {
    io::Reader r(dir.file("cut.h5"), "tasks");
    r.read("/x");
  });
  CHECK(msg.rfind(dir.file("cut.h5") + ": ", 0) == 0);
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(msg != "(no InputError)");
}

TEST_CASE("io: an uncommitted writer leaves nothing and keeps the old file") {
  TempDir dir;
  const std::string target = dir.file("out.h5");
  std::ofstream(target) << "old contents";
  {
    io::Writer w(target, "tasks", "unit", nlohmann::json::object());
    const double x[2] = {1, 2};
    w.write("/x", {2}, x);
    // no commit: as if the run failed
  }
  CHECK(read_text(target) == "old contents");
  CHECK(std::system(("test $(ls -A '" + dir.path + "' | wc -l) -eq 1").c_str()) == 0);

  {
    io::Writer w(target, "tasks", "unit", nlohmann::json::object());
    w.commit();
  }
  CHECK(io::Reader(target, "tasks").attr_string("/", "symlearn_format") == "tasks");
  CHECK_THROWS_AS(io::Writer(dir.file("no/such/dir.h5"), "tasks", "unit", {}), InputError);
}

TEST_CASE("io: an output that is an input is refused, while that input is still there") {
  TempDir dir;
  const std::string in = dir.file("in.h5"), moved = dir.file("moved.h5");
  { io::Writer(in, "tasks", "unit", nlohmann::json::object()).commit(); }
  io::Reader r(in, "tasks");
  CHECK_THROWS_AS(io::Writer(in, "tasks", "unit", nlohmann::json::object()), InputError);
  // The input's inode under another name, the input's own path gone: what a
  // deleted input's reused inode looks like. Not the input any more.
  REQUIRE(std::rename(in.c_str(), moved.c_str()) == 0);
  CHECK_NOTHROW(io::Writer(moved, "tasks", "unit", nlohmann::json::object()).commit());
}

TEST_CASE("io: identical writes give identical bytes") {
  TempDir dir;
  for (const char* name : {"a.h5", "b.h5"}) {
    io::Writer w(dir.file(name), "tasks", "unit", {{"k", 1}});
    const double x[3] = {1, 2, 3};
    w.write("/deep/group/x", {3}, x);
    w.commit();
  }
  CHECK(read_text(dir.file("a.h5")) == read_text(dir.file("b.h5")));
}

TEST_CASE("io: '-' reads an HDF5 file from stdin through a file image") {
  TempDir dir;
  const std::string path = dir.file("in.h5");
  {
    io::Writer w(path, "tasks", "unit", {{"from", "stdin"}});
    const double x[4] = {1, 2, 3, 4};
    w.write("/train/x", {1, 2, 2}, x);
    w.commit();
  }
  // Put a file on descriptor 0, as a shell redirection would.
  auto redirect = [](const std::string& file) {
    const int fd = open(file.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(dup2(fd, STDIN_FILENO) == STDIN_FILENO);
    if (fd != STDIN_FILENO) close(fd);
  };
  redirect(path);
  {
    io::Reader r("-", "tasks");
    CHECK(r.name() == "<stdin>");
    CHECK(r.config()["from"] == "stdin");
    CHECK(r.read("/train/x", {1, 2, 2}).data[3] == 4);
  }
  std::ofstream(dir.file("junk")) << "junk";
  redirect(dir.file("junk"));
  CHECK(error_of([] { io::Reader r("-"); }) == "<stdin>: not an HDF5 file (no HDF5 signature)");
  redirect("/dev/null");
  CHECK(error_of([] { io::Reader r("-"); }) == "<stdin>: is empty (expected an HDF5 file)");
}
