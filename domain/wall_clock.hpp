// Wall-clock milliseconds since the epoch: what persisted deadlines and
// expiry instants are measured in (they must survive a restart).
#pragma once

#include <chrono>
#include <cstdint>

namespace emporium {

inline std::int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// The same clock in nanoseconds: when a shard file's writers wrote
/// (persistence/fencing.hpp), compared across processes on one host.
inline std::int64_t wall_clock_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace emporium
