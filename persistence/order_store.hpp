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
};

class order_store {
public:
  order_store(const std::string& path, durability level, order_id_space ids = {});
  ~order_store();

  std::optional<placed_order> find_by_key(const std::string& user, const std::string& key);

  /// In ONE transaction: the index row, the initial snapshot (built by
  /// `make_state(id)` once the id is known), its outbox event, and the
  /// answer (built by `make_response(id)`). Returns the new order id.
  template <class MakeState, class MakeEvent, class MakeResponse>
  std::int64_t place(const std::string& user, const std::optional<std::string>& key,
                     const std::string& request_hash, std::uint8_t kind, std::int64_t now_ms,
                     MakeState make_state, MakeEvent make_event, MakeResponse make_response) {
    begin();
    try {
      auto id = insert_index(user, key, request_hash, now_ms);
      auto state = make_state(id);
      auto event = make_event(id);
      std::vector<entity_write> batch{{kind, std::to_string(id), state, {event}}};
      write_snapshots(*db_, batch);
      set_response(id, make_response(id));
      last_event_ = batch[0].events[0];
      commit();
      return id;
    } catch (...) {
      rollback();
      throw;
    }
  }

  /// The outbox row written by the last place() (to publish it).
  const outbox_row& last_event() const { return last_event_; }

  /// Snapshots of a user's orders, newest first (at most `limit`).
  std::vector<std::string> history(const std::string& user, std::size_t limit);

  /// One order's snapshot and owner.
  std::optional<std::pair<std::string, std::string>> find(std::int64_t id);

  /// Outbox rows of `user` after `seq`, oldest first (at most `limit`).
  std::vector<outbox_row> events_since(const std::string& user, std::int64_t seq,
                                       std::size_t limit);

  /// Ids of orders whose snapshot is not terminal (resumed at start-up).
  std::vector<std::int64_t> unfinished(std::uint8_t kind);

private:
  void begin();
  void commit();
  void rollback();
  std::int64_t insert_index(const std::string& user, const std::optional<std::string>& key,
                            const std::string& request_hash, std::int64_t now_ms);
  void set_response(std::int64_t id, const std::string& response);

  std::unique_ptr<SQLite::Database> db_;
  order_id_space ids_;
  outbox_row last_event_;
};

} // namespace emporium::persistence
