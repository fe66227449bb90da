// Values an installation chooses once and keeps, in the node's database
// (emporium.db), which every node of a cluster shares.
#pragma once

#include "persistence/database.hpp"

#include <string>

namespace emporium::persistence {

/// This installation's id (16 hex characters): made at the first call by
/// whichever node gets there first; every later call, on any node, reads
/// the same one. Throws store_error when the file cannot be used.
std::string installation_id(const std::string& db_path, durability level);

} // namespace emporium::persistence
