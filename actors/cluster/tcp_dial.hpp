// A TCP connect that gives up in time. CAF 0.17 dials peers with a blocking
// connect(2), which waits for the kernel's SYN retries (about two minutes)
// when the address drops packets instead of refusing: a peer behind a port
// mapping that just went away, or a firewall. Plain POSIX, no CAF.
#pragma once

#include "support/name_lookup.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace emporium::cluster {

/// A connected, non-blocking, close-on-exec socket, or why there is none.
struct dial_result {
  int fd = -1;       ///< owned by the caller when >= 0
  std::string error; ///< set when fd < 0
};

/// Resolves `host` (a name, a numeric address, or an IPv6 one in brackets
/// as a seed list writes it: "[::1]") and connects to the first
/// of its addresses that answers, all within `deadline`, the name lookup
/// included (name_lookup.hpp); an address that refuses or fails lets the
/// next one try with the time left.
dial_result dial_tcp(const std::string& host, std::uint16_t port,
                     std::chrono::milliseconds deadline,
                     name_lookups& lookups = name_lookups::system());

} // namespace emporium::cluster
