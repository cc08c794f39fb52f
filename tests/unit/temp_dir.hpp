// A temporary directory for a test, removed with everything in it.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <string>

namespace testutil {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/symlearn-unit.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path + "/" + name; }
};

}  // namespace testutil
