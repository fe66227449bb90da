// The node's metrics as cells made once (see support/metrics.hpp): actors
// keep references and update them with relaxed atomics, never a lock.
// Families whose labels are open-ended (cancellation reasons, shards) make
// a cell on first use under the family's lock; those paths are per order or
// per commit, not per message.
#pragma once

#include "domain/order_rules.hpp"
#include "support/metrics.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace emporium {

struct node_metrics {
  /// The process's cells (made on first use).
  static node_metrics& get();

  // -- entities, by kind (1 cart, 2 stock, 3 order)
  std::array<metrics::gauge*, 4> resident{};
  std::array<metrics::counter*, 4> activations{}, passivations{}, crashes{}, restarts{};
  metrics::gauge* parked = nullptr; // messages waiting for an entity or a moving shard

  // -- orders
  metrics::counter* orders_placed = nullptr;
  std::array<std::array<metrics::counter*, 6>, 6> transitions{}; // [from][to], by status number
  metrics::family<metrics::counter>* cancellations = nullptr;     // {reason}
  metrics::histogram* place_to_terminal = nullptr;
  metrics::gauge* sagas_in_flight = nullptr;

  // -- payments
  metrics::family<metrics::counter>* provider_calls = nullptr; // {outcome}
  metrics::histogram* provider_call_duration = nullptr;
  metrics::counter* provider_retries = nullptr;
  metrics::gauge* breaker_state = nullptr; // 0 closed, 1 open, 2 half-open
  metrics::gauge* payments_in_flight = nullptr; // attempts at the provider now
  metrics::gauge* payments_queued = nullptr;    // calls waiting for a place
  metrics::counter* payments_joined = nullptr;  // requests answered by a call already open
  metrics::counter* payments_expired = nullptr; // calls dropped unsent: no one waited any more

  // -- SQLite, by database file
  metrics::family<metrics::counter>* commits = nullptr;           // {db}
  metrics::family<metrics::histogram>* saves_per_commit = nullptr; // {db}
  metrics::family<metrics::histogram>* commit_duration = nullptr;  // {db}
  metrics::family<metrics::histogram>* fold_duration = nullptr;    // {db}
  metrics::family<metrics::counter>* fold_failures = nullptr;      // {db}
  metrics::counter* events_pruned = nullptr;   // retention: outbox rows deleted
  metrics::counter* keys_forgotten = nullptr;  // retention: Idempotency-Keys forgotten
  metrics::counter* sales_pruned = nullptr;    // retention: stock sales deleted
  metrics::counter* payments_pruned = nullptr; // retention: test-mode ledger rows deleted
  metrics::counter* pages_reclaimed = nullptr; // retention: pages given back to the disk

  // -- cluster
  metrics::gauge* live_members = nullptr;
  metrics::gauge* configured_members = nullptr;
  metrics::gauge* incompatible_members = nullptr;
  metrics::gauge* quorum = nullptr;
  metrics::gauge* shards_owned = nullptr;
  metrics::gauge* shards_ready = nullptr;
  metrics::counter* handoffs = nullptr;
  metrics::histogram* handoff_duration = nullptr;
  metrics::counter* forwarded = nullptr;
  metrics::counter* resent = nullptr;

  // -- mailboxes of the actors everything goes through
  metrics::family<metrics::gauge>* mailbox_depth = nullptr; // {actor, instance}

private:
  node_metrics();
};

/// Samples an actor's mailbox depth into `cell` on every 64th call. Call
/// from inside the actor only (reading a mailbox moves its new arrivals).
template <class Self>
void sample_mailbox(Self* self, metrics::gauge& cell, std::uint32_t& calls) {
  if ((calls++ & 63u) == 0)
    cell.set(static_cast<double>(self->mailbox().size()));
}

/// Counts the transition and, on a terminal status, the cancellation
/// reason and the time since the order was placed.
void record_transition(const order_state& order, order_status from, millis now);

} // namespace emporium
