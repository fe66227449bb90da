// Orders: the index (who placed which order, with which Idempotency-Key and
// what the original answer was) and reads over order snapshots and the
// outbox (history, one order, events a reconnecting client missed).
#pragma once

#include "persistence/entity_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace emporium::persistence {

struct placed_order {
  std::int64_t id = 0;
  std::string user_id;
  std::string request_hash;
  std::string response; // the original answer, replayed for a retried key
};

/// Order ids a store hands out: offset, offset + stride, offset + 2 stride...
/// Each shard gets its own residue class, so ids are unique cluster-wide
/// without coordination and an order's shard follows from its id.
struct order_id_space {
  std::int64_t offset = 1;
  std::int64_t stride = 1;

  /// The first id of this space above `last` (offset when nothing is).
  std::int64_t next_after(std::int64_t last) const {
    if (last < offset)
      return offset;
    return offset + ((last - offset) / stride + 1) * stride;
  }
};

class order_store {
public:
  order_store(const std::string& path, durability level);
  ~order_store();

  std::optional<placed_order> find_by_key(const std::string& user, const std::string& key);

  /// The highest order id in this file (0 if none): ids continue from it.
  std::int64_t max_order_id();

  /// A user's orders, newest first (at most `limit`); a row that does not
  /// decode is left out (one bad row must not hide the others).
  std::vector<order_state> history(const std::string& user, std::size_t limit);

  /// One order and its owner; `order` is nullopt when its row does not decode.
  struct stored_order {
    std::string user;
    std::optional<order_state> order;
  };
  std::optional<stored_order> find(std::int64_t id);

  /// Events of `user` after `seq`, oldest first (at most `limit`).
  std::vector<order_event> events_since(const std::string& user, std::int64_t seq,
                                       std::size_t limit);

  /// Ids of orders whose snapshot is not terminal (resumed at start-up).
  std::vector<std::int64_t> unfinished(std::uint8_t kind);

  // Retention (issue 16): run by the order index every sweep interval.

  /// Deletes up to `limit` outbox rows written before `cutoff_ms`, never the
  /// newest row (seq is max(seq) + 1: deleting the newest would hand its
  /// seq out again), and remembers the highest seq deleted. Returns the
  /// number deleted.
  std::int64_t prune_events(std::int64_t cutoff_ms, std::size_t limit);

  /// The highest seq pruned so far (0: none). A client resuming from a seq
  /// below it missed events it can no longer get.
  std::int64_t events_pruned_through();

  /// Forgets the Idempotency-Key, request hash and stored answer of up to
  /// `limit` orders placed before `cutoff_ms` (the orders stay); a retry with
  /// such a key is a new request, as with Stripe after 24 hours.
  std::int64_t forget_idempotency(std::int64_t cutoff_ms, std::size_t limit);

  /// Returns up to `pages` free pages to the file system (the file uses
  /// auto_vacuum=INCREMENTAL; a file from before that only reuses them).
  void reclaim(int pages);

private:
  connection db_;
};

} // namespace emporium::persistence
