// SHA-256, to record the content hash of a training dataset in a model file;
// the hex digest matches `sha256sum FILE`. OpenSSL's libcrypto computes it
// (its SHA extensions / AVX2 code hashes ~8x faster than a portable loop,
// and a training run hashes its whole tasks file).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace symlearn {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  std::string hex();  // finishes the hash

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// The hex SHA-256 of a file's contents; throws InputError if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace symlearn
