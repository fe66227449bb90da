// Entity snapshots: the latest state of each cart and stock record, written
// in batches (one transaction per batch = group commit).
//
// Kinds named "logged" (carts, on the shard stores) are not upserted in
// place: their snapshots are appended to `entity_log` and folded into
// `entities` later, many commits at once. Why: an upsert to a random key
// dirties a random 4 KiB leaf page, so a group commit wrote about one page
// per cart save to the WAL (and the checkpoint wrote it again); on a disk
// the writer then waited for pages under writeback. Appending fills the log's
// last page instead, and a fold writes each page of `entities` once for
// every save that touched it since the last fold (docs/benchmarks.md).
//
// Who may log: the one writer of a file (a shard's store, fenced). It folds
// what a previous writer left at open, keeps the latest logged snapshot of
// each id in memory until the fold, and answers loads from there, so it
// never searches the log. A store opened beside it without logging (tests,
// tools) reads an id's latest log row first, by scanning the log (at most
// one fold's worth of rows); SQL that reads `entities` directly sees carts
// as of the last fold (only carts are logged; nothing reads them so).
#pragma once

#include "domain/order_event.hpp"
#include "persistence/connection.hpp"
#include "persistence/retention.hpp"
#include "persistence/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
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

/// A stock record's sale to an order, written with its snapshot: made by a
/// commit, or given back by the order's cancel (its row is deleted, so a
/// repeated commit of it is no longer recognised).
struct sale_change {
  std::int64_t order = 0;
  bool given_back = false;
  std::int64_t at = 0; ///< when the sale was made (ms); 0: undated, see retention.hpp
};

struct entity_write {
  std::uint8_t kind = 0;
  std::string id;
  snapshot state;
  std::vector<order_event> events; ///< published iff the snapshot is written (the outbox)
  std::optional<order_index_row> placed; // set for an order's placement
  std::optional<sale_change> sale;       // a stock record's sale made or given back
};

/// Which entity kinds a store logs (bit `kind` set), see above.
using logged_kinds = std::uint32_t;
constexpr logged_kinds log_kind(std::uint8_t kind) {
  return kind < 32 ? logged_kinds{1} << kind : 0;
}

/// Upserts the snapshots (appends those of `logged` kinds to the log),
/// appends their events to the outbox (filling in `seq`) and inserts the
/// index rows of placements, inside the caller's transaction.
void write_snapshots(connection& db, std::vector<entity_write>& batch, logged_kinds logged = 0);

/// When a store folds its log (see fold_due).
/// A fold costs ~3 us per distinct id on this VM (a B-tree update each),
/// and the store answers no save meanwhile; the longer rows wait, the more
/// of them are one id's older snapshots that are never written to
/// `entities`. The memory the writer keeps for its loads is bounded by
/// `bytes` (ids and snapshot texts).
struct fold_policy {
  std::size_t rows = 32768;                  ///< log rows that make a fold due
  std::size_t bytes = std::size_t{4} << 20;  ///< unfolded snapshot bytes that do
  std::chrono::milliseconds after{1000};     ///< age of the oldest unfolded row that does
};

class entity_store {
public:
  /// Opens its own connection to the database at `path`. With logged kinds,
  /// folds the log a previous writer left first (throws like commit).
  entity_store(const std::string& path, durability level, epoch_fence fence = {},
               logged_kinds logged = 0, fold_policy policy = {});
  ~entity_store();
  entity_store(const entity_store&) = delete;
  entity_store& operator=(const entity_store&) = delete;

  /// The entity's snapshot; empty when it has none.
  snapshot load(std::uint8_t kind, const std::string& id);

  /// Every (id, state) of one kind, for start-up projections (a logged
  /// kind's log is folded first).
  std::vector<std::pair<std::string, snapshot>> load_all(std::uint8_t kind);

  /// Whether `product`'s stock was ever sold to `order` (a committed sale).
  bool sold(std::int64_t product, std::int64_t order);

  /// Writes all snapshots in ONE transaction; durable when it returns
  /// (at the configured durability level). Throws on failure, nothing written.
  /// `now` dates the log's oldest row for fold_due: the caller's clock (a
  /// store actor's is CAF's, which tests drive).
  void commit(std::vector<entity_write>& batch,
              std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  /// Whether the log holds `policy.rows` rows or `policy.bytes` of
  /// distinct snapshots, or a row older than `policy.after`.
  bool fold_due(std::chrono::steady_clock::time_point now) const;
  const fold_policy& policy() const { return policy_; }
  /// Rows in the log now (0 when nothing is logged).
  std::size_t unfolded_rows() const { return log_rows_; }
  /// In ONE transaction: each logged id's latest snapshot into `entities`
  /// (in key order), and the log emptied. Throws on failure (fenced_error
  /// included), nothing changed.
  void fold();

  /// Deletes and forgets what retention says is old (see retention.hpp).
  retention_swept sweep(const retention_cutoffs& cut) { return persistence::sweep(db_, cut); }

private:
  bool logs(std::uint8_t kind) const { return (logged_ & log_kind(kind)) != 0; }
  bool log_holds_rows();
  static std::string unfolded_key(std::uint8_t kind, const std::string& id);

  connection db_;
  logged_kinds logged_ = 0;
  fold_policy policy_;
  // The latest logged snapshot text of each id in the log (kind byte + id).
  std::unordered_map<std::string, std::string> unfolded_;
  std::size_t log_rows_ = 0;
  std::size_t unfolded_bytes_ = 0; // keys and texts in `unfolded_`
  std::chrono::steady_clock::time_point oldest_unfolded_{};
};

} // namespace emporium::persistence
