// Random identifiers as lowercase hex, from libsodium's CSPRNG.
#pragma once

#include <cstddef>
#include <string>

namespace emporium {

/// `bytes` random bytes as 2 * `bytes` lowercase hex digits.
std::string random_hex(std::size_t bytes);

} // namespace emporium
