// SHA-256 (FIPS 180-4), to record the content hash of a training dataset in
// a model file; the hex digest matches `sha256sum FILE`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace symlearn {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  std::string hex();  // finishes the hash

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t used_ = 0;
  std::uint64_t bytes_ = 0;
};

// The hex SHA-256 of a file's contents; throws InputError if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace symlearn
