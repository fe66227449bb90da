// A fuzz target's property check: a broken invariant aborts, which libFuzzer
// (and the replay programs of the normal test run) report as a crash.
#pragma once

#include <cstdlib>

namespace emporium::fuzz {

inline void check(bool ok) {
  if (!ok)
    std::abort();
}

} // namespace emporium::fuzz
