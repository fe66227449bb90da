#include "support/random_hex.hpp"

#include <sodium.h>

#include <vector>

namespace emporium {

std::string random_hex(std::size_t bytes) {
  if (bytes == 0)
    return {}; // libsodium's arguments must not be null, and an empty vector's may be
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0'); // sodium_bin2hex writes a terminator
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

} // namespace emporium
