// Defaults shared by the configuration and the actors that apply them.
#pragma once

#include <cstdint>

namespace emporium {

/// Entities kept in memory per node before the least recently used is
/// passivated (~1.8 KiB per cart: ~360 MiB at the default).
inline constexpr std::uint64_t default_max_resident = 200'000;

} // namespace emporium
