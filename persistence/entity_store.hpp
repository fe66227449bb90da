// Entity snapshots: the latest state of each cart and stock record, written
// in batches (one transaction per batch = group commit).
#pragma once

#include "persistence/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace emporium::persistence {

struct entity_write {
  std::uint8_t kind = 0;
  std::string id;
  std::string state;
};

class entity_store {
public:
  /// Opens its own connection to the database at `path`.
  entity_store(const std::string& path, durability level);
  ~entity_store();
  entity_store(const entity_store&) = delete;
  entity_store& operator=(const entity_store&) = delete;

  std::optional<std::string> load(std::uint8_t kind, const std::string& id);

  /// Every (id, state) of one kind, for start-up projections.
  std::vector<std::pair<std::string, std::string>> load_all(std::uint8_t kind);

  /// Writes all snapshots in ONE transaction; durable when it returns
  /// (at the configured durability level). Throws on failure, nothing written.
  void commit(const std::vector<entity_write>& batch);

private:
  std::unique_ptr<SQLite::Database> db_;
};

} // namespace emporium::persistence
