// The node's metric cells (see node_metrics.hpp).
#include "actors/node_metrics.hpp"

#include "support/log.hpp"

namespace emporium {

namespace {

const char* const kinds[] = {"", "cart", "stock", "order"};

template <class Metric>
std::array<Metric*, 4> by_kind(metrics::family<Metric>& f) {
  std::array<Metric*, 4> out{};
  for (int k = 1; k <= 3; ++k)
    out[k] = &f.with({kinds[k]});
  return out;
}

} // namespace

node_metrics& node_metrics::get() {
  static node_metrics the_cells;
  return the_cells;
}

node_metrics::node_metrics() {
  auto& r = metrics::default_registry();
  resident = by_kind(r.gauge_family("emporium_entities_resident", "Entity actors alive now, by kind",
                                    {"kind"}));
  activations = by_kind(r.counter_family("emporium_entity_activations_total",
                                         "Entity actors started (first use or after passivation)",
                                         {"kind"}));
  passivations = by_kind(r.counter_family("emporium_entity_passivations_total",
                                          "Entity actors stopped for being idle or over the cap",
                                          {"kind"}));
  crashes = by_kind(r.counter_family("emporium_entity_crashes_total",
                                     "Entity actors that ended with an error", {"kind"}));
  restarts = by_kind(r.counter_family("emporium_entity_restarts_total",
                                      "Crashed entities restarted from their durable state",
                                      {"kind"}));
  parked = &r.gauge_of("emporium_parked_messages",
                       "Messages waiting for an entity to start or a shard to change hands");

  events_pruned = &r.counter_of("emporium_retention_events_pruned_total",
                                "Outbox events deleted after the event retention");
  keys_forgotten = &r.counter_of("emporium_retention_keys_forgotten_total",
                                 "Idempotency-Keys forgotten after the key retention");
  sales_pruned = &r.counter_of("emporium_retention_sales_pruned_total",
                                "Stock sales deleted after the sale retention");
  payments_pruned = &r.counter_of("emporium_retention_payments_pruned_total",
                                   "Test-mode payment ledger rows deleted after their retention");
  pages_reclaimed = &r.counter_of("emporium_retention_pages_reclaimed_total",
                                  "Free SQLite pages given back to the file system");
  orders_placed = &r.counter_of("emporium_orders_placed_total", "Orders durably placed");
  auto& moves = r.counter_family("emporium_order_transitions_total",
                                 "Order status changes made durable", {"from", "to"});
  for (int f = 1; f <= 5; ++f)
    for (int t = 1; t <= 5; ++t)
      transitions[f][t] = &moves.with({status_name(static_cast<order_status>(f)),
                                       status_name(static_cast<order_status>(t))});
  cancellations = &r.counter_family("emporium_order_cancellations_total",
                                    "Orders cancelled, by reason", {"reason"});
  place_to_terminal = &r.histogram_family("emporium_order_duration_seconds",
                                          "From placement to Confirmed or Cancelled", {},
                                          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                           10, 30, 60})
                         .with({});
  sagas_in_flight = &r.gauge_of("emporium_order_sagas_in_flight",
                                "Order sagas on this node working on an order: placed or "
                                "resumed, not ended, not waiting for the buyer's 3-D Secure");

  provider_calls = &r.counter_family("emporium_payment_provider_calls_total",
                                     "Payment provider calls, by outcome", {"outcome"});
  provider_call_duration = &r.histogram_family("emporium_payment_provider_call_duration_seconds",
                                               "Payment provider call time")
                              .with({});
  provider_retries = &r.counter_of("emporium_payment_retries_total",
                                   "Payment provider calls repeated after a transient failure");
  breaker_state = &r.gauge_of("emporium_payment_breaker_state",
                              "Payment circuit breaker: 0 closed, 1 open, 2 half-open");
  payments_in_flight = &r.gauge_of("emporium_payment_calls_in_flight",
                                   "Payment provider calls started and not yet answered");
  payments_queued = &r.gauge_of("emporium_payment_calls_queued",
                                "Payment calls waiting for a place in flight");
  payments_joined = &r.counter_of("emporium_payment_calls_joined_total",
                                  "Payment requests that joined a call already open for the same "
                                  "order and kind (asked again while the first still waited)");
  payments_expired = &r.counter_of("emporium_payment_calls_expired_total",
                                   "Payment calls given up before a provider attempt because "
                                   "everyone who asked had stopped waiting");

  commits = &r.counter_family("emporium_sqlite_commits_total",
                              "Write transactions committed, by database file", {"db"});
  saves_per_commit = &r.histogram_family("emporium_sqlite_saves_per_commit",
                                         "Entity writes grouped into one commit", {"db"},
                                         {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
  commit_duration = &r.histogram_family("emporium_sqlite_commit_duration_seconds",
                                        "Time to commit one group of writes", {"db"});
  fold_duration = &r.histogram_family("emporium_sqlite_fold_duration_seconds",
                                      "Time to fold a shard's cart log into its entities",
                                      {"db"});
  fold_failures = &r.counter_family("emporium_sqlite_fold_failures_total",
                                    "Folds of a shard's cart log that failed (retried with back-off)",
                                    {"db"});

  live_members = &r.gauge_of("emporium_cluster_live_members", "Members this node sees (itself included)");
  configured_members = &r.gauge_of("emporium_cluster_configured_members",
                                   "Members the cluster is configured with");
  incompatible_members = &r.gauge_of(
    "emporium_cluster_incompatible_members",
    "Configured members that refuse this node's hello, or whose it refuses, because their "
    "build's messages differ (wire fingerprint)");
  quorum = &r.gauge_of("emporium_cluster_quorum", "1 while this node sees a majority");
  shards_owned = &r.gauge_of("emporium_cluster_shards_owned", "Shards this node owns");
  shards_ready = &r.gauge_of("emporium_cluster_shards_ready", "Shards this node has open");
  handoffs = &r.counter_of("emporium_cluster_shard_handoffs_total",
                           "Shards this node opened after they changed hands");
  handoff_duration = &r.histogram_family("emporium_cluster_shard_handoff_duration_seconds",
                                         "From deciding to own a shard to serving it")
                        .with({});
  mailbox_depth = &r.gauge_family("emporium_actor_mailbox_depth",
                                  "Messages waiting in the mailbox of a store, router, directory "
                                  "or payment actor (sampled every 64 messages)",
                                  {"actor", "instance"});
  forwarded = &r.counter_of("emporium_cluster_forwarded_messages_total",
                            "Messages this node's router sent on to another node");
  resent = &r.counter_of("emporium_cluster_resent_messages_total",
                         "Forwarded requests sent again because their node died before "
                         "answering");
}

void record_transition(const order_state& order, order_status from, millis now) {
  auto& m = node_metrics::get();
  auto f = static_cast<int>(from), t = static_cast<int>(order.status);
  if (f >= 1 && f <= 5 && t >= 1 && t <= 5)
    m.transitions[f][t]->inc();
  if (!is_terminal(order.status))
    return;
  if (order.status == order_status::cancelled) {
    m.cancellations->with({order.reason}).inc();
    log::info("order_cancelled", {{"order", std::to_string(order.id)}, {"reason", order.reason}});
  }
  if (order.placed_at > 0 && now >= order.placed_at)
    m.place_to_terminal->observe(static_cast<double>(now - order.placed_at) / 1000.0);
}

} // namespace emporium
