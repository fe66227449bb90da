// Defaults shared by the configuration and the actors that apply them.
#pragma once

#include <cstdint>

namespace emporium {

/// Entities kept in memory per node before the least recently used is
/// passivated (~2.3 KiB per cart with 3 lines: ~450 MiB at the default).
inline constexpr std::uint64_t default_max_resident = 200'000;

} // namespace emporium
