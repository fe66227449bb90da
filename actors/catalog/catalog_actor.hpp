// The catalog's write side: persists product changes and applies them, and
// the stock actors' availability events, to this node's read model.
// Its interface: actors/catalog/catalog_interface.hpp.
#pragma once

#include "actors/catalog/catalog_interface.hpp"

#include "actors/catalog/catalog_view.hpp"
#include "persistence/database.hpp"

#include <caf/fwd.hpp>
#include <memory>
#include <string>
#include <vector>

namespace emporium {

/// Where the catalog's data lives: products in the global database, stock
/// records in the shard files.
struct catalog_files {
  std::string global_db;
  std::vector<std::string> shard_dbs;
  persistence::durability level = persistence::durability::normal;
};

/// The write side. Every change it makes (and every stock change a local
/// stock entity reports) is also sent to the router given by announce_to as
/// `(broadcast, change)`, so other nodes' read models follow; what other
/// nodes report arrives as apply_remote_change.
catalog_actor spawn_catalog(caf::actor_system& sys, catalog_files files,
                         std::shared_ptr<catalog_view> view);

/// Loads products and stock snapshots into `view` (start-up, before serving)
/// and, when the catalog is empty and `seed_demo` is set, writes the demo
/// catalog with its stock first. Returns the number of products.
std::size_t load_catalog(const catalog_files& files, catalog_view& view, bool seed_demo);

} // namespace emporium
