// The catalog's write side: persists product changes and applies them, and
// the stock actors' availability events, to this node's read model.
//
// Protocol:
//   (create, product_record)        -> product_record (with its new id)
//   (update, product_record)        -> product_record | not_found
//   (erase, id)                     -> bool (true = deleted now)
//   (stock_changed, id, available)  -> (no answer; from stock actors)
#pragma once

#include "actors/catalog/catalog_view.hpp"
#include "persistence/database.hpp"

#include <caf/fwd.hpp>
#include <memory>

namespace emporium {

caf::actor spawn_catalog(caf::actor_system& sys, const std::string& db_path,
                         persistence::durability level, std::shared_ptr<catalog_view> view);

/// Loads products and stock snapshots into `view` (start-up, before serving)
/// and, when the catalog is empty and `seed_demo` is set, writes the demo
/// catalog with its stock first. Returns the number of products.
std::size_t load_catalog(const std::string& db_path, persistence::durability level,
                         catalog_view& view, bool seed_demo);

} // namespace emporium
