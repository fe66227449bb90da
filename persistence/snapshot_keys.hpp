// Snapshot field names as constants, from snapshot_keys.def (the one table).
// Use: snapshot_keys::order::status.
#pragma once

#include <string_view>

namespace emporium::persistence::snapshot_keys {

#define SNAPSHOT_KEY(entity, field, key)                                                         \
  namespace entity {                                                                             \
  inline constexpr std::string_view field = key;                                                 \
  }
#include "persistence/snapshot_keys.def"
#undef SNAPSHOT_KEY

} // namespace emporium::persistence::snapshot_keys
