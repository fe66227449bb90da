// Entity snapshots: the latest state of each cart and stock record, written
// in batches (one transaction per batch = group commit).
#pragma once

#include "domain/order_event.hpp"
#include "persistence/connection.hpp"
#include "persistence/retention.hpp"
#include "persistence/snapshot.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace emporium::persistence {

/// The index row of a newly placed order, written in the same transaction
/// as the order's first snapshot and event.
struct order_index_row {
  std::int64_t id = 0;
  std::string user_id;
  std::string idempotency_key; // empty: none given
  std::string request_hash;
  std::string response; // the original answer, replayed for a retried key
  std::int64_t placed_at = 0;
};

struct entity_write {
  std::uint8_t kind = 0;
  std::string id;
  snapshot state;
  std::vector<order_event> events; ///< published iff the snapshot is written (the outbox)
  std::optional<order_index_row> placed; // set for an order's placement
  std::optional<std::int64_t> sold_to;   // a stock record's sale to this order
};

/// Upserts the snapshots, appends their events to the outbox (filling in
/// `seq`) and
/// inserts the index rows of placements, inside the caller's transaction.
void write_snapshots(connection& db, std::vector<entity_write>& batch);

class entity_store {
public:
  /// Opens its own connection to the database at `path`.
  entity_store(const std::string& path, durability level, epoch_fence fence = {});
  ~entity_store();
  entity_store(const entity_store&) = delete;
  entity_store& operator=(const entity_store&) = delete;

  /// The entity's snapshot; empty when it has none.
  snapshot load(std::uint8_t kind, const std::string& id);

  /// Every (id, state) of one kind, for start-up projections.
  std::vector<std::pair<std::string, snapshot>> load_all(std::uint8_t kind);

  /// Whether `product`'s stock was ever sold to `order` (a committed sale).
  bool sold(std::int64_t product, std::int64_t order);

  /// Writes all snapshots in ONE transaction; durable when it returns
  /// (at the configured durability level). Throws on failure, nothing written.
  void commit(std::vector<entity_write>& batch);

  /// Deletes and forgets what retention says is old (see retention.hpp).
  retention_swept sweep(const retention_cutoffs& cut) { return persistence::sweep(db_, cut); }

private:
  connection db_;
};

} // namespace emporium::persistence
