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

  /// Events of `user` after `seq`, oldest first (at most `limit`). With
  /// `last_read`: where the next page goes on after when this one stopped
  /// early (`limit` rows read, or `max_blocks` blocks of the outbox's index
  /// looked at, see order_store.cpp), else 0.
  std::vector<order_event> events_since(const std::string& user, std::int64_t seq,
                                       std::size_t limit, std::int64_t* last_read = nullptr,
                                       std::int64_t max_blocks = 1024);

  /// Ids of orders whose snapshot is not terminal (resumed at start-up),
  /// read from an index of those alone: the cost follows the orders in
  /// flight, not every order ever placed. A row that is not JSON is left out.
  std::vector<std::int64_t> unfinished_orders();

  /// What a client resuming after `seq` gets: the events (as above, and
  /// `more_after` when the page was full), or `reset` when retention
  /// pruned events after `seq` (it reloads instead).
  event_page events_page(const std::string& user, std::int64_t seq, std::size_t limit);

private:
  connection db_;
};

} // namespace emporium::persistence
