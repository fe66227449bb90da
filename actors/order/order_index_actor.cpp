// The order index actor (see order_index_actor.hpp).
#include "domain/wall_clock.hpp"
#include "actors/order/order_index_actor.hpp"
#include "actors/spawn_in.hpp"

#include "actors/guarded.hpp"
#include "actors/node_metrics.hpp"
#include "actors/order/saga_load.hpp"
#include "actors/protocol.hpp"
#include "persistence/snapshot.hpp"
#include "persistence/order_store.hpp"
#include "support/json_field.hpp"
#include "support/log.hpp"

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>

namespace emporium {

namespace {

/// Placements of one (user, Idempotency-Key) still being written: a retry
/// that arrives meanwhile waits for the first answer instead of racing it.
struct inflight_key {
  std::string request_hash;
  std::vector<caf::typed_response_promise<std::string>> waiting;
};

struct index_state {
  std::unique_ptr<persistence::order_store> store; // reads
  store_actor writer; // the shard's store actor: the file's only writer
  caf::actor directory;
  persistence::order_id_space ids;
  std::int64_t last_id = 0;
  std::map<std::pair<std::string, std::string>, inflight_key> inflight;
  persistence::retention_policy retention;
  /// Placements handed to the store whose commit has not answered yet.
  std::size_t writing = 0;
  /// Set once asked to stop: the index quits when `writing` reaches 0.
  caf::error stop_reason;
  /// The node's working sagas and their bound (null: no bound).
  std::shared_ptr<saga_load> load;
  static inline const char* name = "order_index";
};

// The public interface plus its retention timer.
using index_impl = order_index_actor::extend<caf::reacts_to<atoms::sweep>>;
using index_self = index_impl::stateful_pointer<index_state>;

/// Asks the store (the file's only writer) to sweep, then schedules the
/// next sweep: soon when a limit was reached, else after the interval.
void sweep(index_self self) {
  auto cut = persistence::cutoffs_at(self->state.retention, wall_clock_ms());
  self->request(self->state.writer, std::chrono::minutes(5), sweep_retention{cut})
    .then(
      [self](const persistence::retention_swept& done) {
        auto& m = node_metrics::get();
        m.events_pruned->inc(static_cast<double>(done.events));
        m.keys_forgotten->inc(static_cast<double>(done.keys));
        m.sales_pruned->inc(static_cast<double>(done.sales));
        m.pages_reclaimed->inc(static_cast<double>(done.pages));
        if (done.events + done.keys + done.sales + done.pages > 0)
          log::write("info", "retention_swept",
                     {{"events", std::to_string(done.events)},
                      {"keys", std::to_string(done.keys)},
                      {"sales", std::to_string(done.sales)},
                      {"pages", std::to_string(done.pages)}});
        auto next = done.more ? std::chrono::milliseconds(1000)
                              : std::chrono::milliseconds(self->state.retention.interval_ms);
        self->delayed_send(self, next, atoms::sweep::value);
      },
      [self](const caf::error&) {
        // Logged by the store; tried again at the next interval.
        self->delayed_send(self, std::chrono::milliseconds(self->state.retention.interval_ms),
                           atoms::sweep::value);
      });
}

/// The placement of a new order: its id, Submitted snapshot, event, index
/// row and answer, handed to the store so they share one transaction (and
/// the store's group commit: one writer per file never waits for a lock).
/// `order` becomes the placed order.
persistence::entity_write placement(index_self self, order_state& order, const std::string& user,
                                    const std::string& key, const std::string& hash,
                                    const std::string& answer) {
  auto& st = self->state;
  auto id = st.ids.next_after(st.last_id);
  st.last_id = id;
  auto now = wall_clock_ms();
  order.id = id;
  order.user = user;
  order.placed_at = now;
  order.status = order_status::submitted;
  order.reason.clear();
  order.timeline = {{order_status::submitted, "", now}};
  // The answer was built by an edge (maybe another node's): parsed without
  // exceptions and dumped replacing invalid UTF-8, so neither can throw.
  auto j = json_read::parse(answer).value_or(nlohmann::json::object());
  if (!j.is_object())
    j = nlohmann::json::object();
  j["orderId"] = id;
  return {static_cast<std::uint8_t>(entity_kind::order), std::to_string(id),
          persistence::snapshot_of(order),
          {event_of(order, now)},
          persistence::order_index_row{id, user, key, hash,
                                    json_read::dump(j), now}};
}

/// Answers everyone waiting on `key` and forgets it.
template <class Answer>
void settle(index_self self, const std::pair<std::string, std::string>& key,
            const Answer& answer) {
  auto it = self->state.inflight.find(key);
  if (it == self->state.inflight.end())
    return;
  for (auto& rp : it->second.waiting)
    rp.deliver(answer);
  self->state.inflight.erase(it);
}

/// A retried key: the stored answer, a wait for the placement still being
/// written, or conflict for a different request under the same key;
/// nullopt when the key is new.
std::optional<caf::result<std::string>> replay(index_self self, const place_order& req) {
  auto& st = self->state;
  if (req.idempotency_key.empty())
    return std::nullopt;
  auto slot = std::make_pair(req.user, req.idempotency_key);
  if (auto it = st.inflight.find(slot); it != st.inflight.end()) {
    if (it->second.request_hash != req.request_hash)
      return caf::result<std::string>{make_error(errc::conflict)};
    auto rp = self->make_response_promise<std::string>();
    it->second.waiting.push_back(rp);
    return caf::result<std::string>{rp};
  }
  if (auto known = st.store->find_by_key(req.user, req.idempotency_key)) {
    if (known->request_hash != req.request_hash)
      return caf::result<std::string>{make_error(errc::conflict)};
    return caf::result<std::string>{known->response}; // the original answer, byte for byte
  }
  return std::nullopt;
}

/// A placement's commit answered: a stopping index may go now.
void written(index_self self) {
  auto& st = self->state;
  if (--st.writing == 0 && st.stop_reason)
    self->quit(st.stop_reason);
}

/// A new order: written with its index row and event, then its saga starts.
caf::result<std::string> place_new(index_self self, place_order& req) {
  auto& st = self->state;
  auto write = placement(self, req.draft, req.user, req.idempotency_key,
                         req.request_hash, req.answer);
  auto id = write.placed->id;
  auto response = write.placed->response;
  auto rp = self->make_response_promise<std::string>();
  auto slot = std::make_pair(req.user, req.idempotency_key);
  if (!req.idempotency_key.empty())
    st.inflight[slot] = inflight_key{req.request_hash, {}};
  // Spans: the placement (a child of the edge's call) and, inside it, the
  // SQLite commit that made the order durable.
  auto place_span = trace::follow(req.trace);
  auto commit_span = trace::follow(place_span);
  auto started = trace::now_ns();
  ++st.writing;
  self->request(st.writer, caf::infinite, save_state{std::move(write)})
    .then(
      [self, rp, slot, id, response, placed = std::move(req.draft), place_span, commit_span,
       parent = req.trace.span, started]() mutable {
        trace::scope in_trace{place_span};
        trace::record(commit_span, place_span.span, "sqlite.commit", trace::span_kind::internal,
                      started, {{"order.id", std::to_string(id)}});
        trace::record(place_span, parent, "order.place", trace::span_kind::consumer, started,
                      {{"order.id", std::to_string(id)}});
        log::debug("order_placed", {{"order", std::to_string(id)}});
        // Durably accepted; the saga starts now from this state (and would
        // be resumed at start-up if this message were lost).
        caf::anon_send(self->state.directory, entity_key{entity_kind::order, std::to_string(id)},
                       caf::make_message(start_order{std::move(placed), place_span}));
        node_metrics::get().orders_placed->inc();
        rp.deliver(response);
        settle(self, slot, response);
        written(self);
      },
      [self, rp, slot](caf::error& err) mutable {
        rp.deliver(err);
        settle(self, slot, err);
        written(self);
      });
  return rp;
}

index_impl::behavior_type order_index(index_self self, std::string path,
                                      persistence::durability level, store_actor writer,
                                      caf::actor directory, persistence::order_id_space ids,
                                      persistence::retention_policy retention,
                                      std::shared_ptr<saga_load> load) {
  auto& st = self->state;
  st.load = std::move(load);
  st.retention = retention;
  if (retention.enabled())
    self->send(self, atoms::sweep::value); // at once: a node may have been down for long
  st.store = std::make_unique<persistence::order_store>(path, level);
  st.writer = std::move(writer);
  st.directory = std::move(directory);
  st.ids = ids;
  st.last_id = st.store->max_order_id();
  // Asked to stop (its shard drains): a placement already handed to the
  // store is answered first. CAF 0.17 drops an unanswered promise silently,
  // and its caller would wait for good. The router stops the store only
  // once the index is gone.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stop_reason = msg.reason ? std::move(msg.reason) : caf::exit_reason::user_shutdown;
    if (st.writing == 0)
      self->quit(st.stop_reason);
  });
  return {
    [self](place_order& req) {
      return guarded([&]() -> caf::result<std::string> {
        if (self->state.stop_reason)
          return make_error(errc::unavailable); // its shard is moving: the caller retries
        if (auto answer = replay(self, req))
          return std::move(*answer);
        if (req.lookup_only)
          return make_error(errc::not_found); // a lookup only: nothing placed yet
        if (self->state.load && !self->state.load->admits())
          return make_error(errc::overloaded); // nothing written: a retry is a new attempt
        return place_new(self, req);
      });
    },
    [self](const order_history& req) {
      return guarded([&]() -> caf::result<std::vector<order_state>> {
        return self->state.store->history(req.user, 200);
      });
    },
    [self](const find_order& req) {
      return guarded([&]() -> caf::result<found_order> {
        auto found = self->state.store->find(req.id);
        if (!found)
          return make_error(errc::not_found);
        if (!found->order)
          return make_error(errc::storage_failure);
        return found_order{found->user, std::move(*found->order)};
      });
    },
    [self](const events_after& req) {
      return guarded([&]() -> caf::result<event_page> {
        return self->state.store->events_page(req.user, req.seq, events_after::page_size);
      });
    },
    [self](const unfinished_orders&) {
      return guarded([&]() -> caf::result<std::vector<std::int64_t>> {
        return self->state.store->unfinished_orders();
      });
    },
    [self](atoms::sweep) { sweep(self); },
  };
}

} // namespace

order_index_actor spawn_order_index(caf::actor_system& sys, const std::string& db_path,
                                    persistence::durability level, store_actor store,
                                    caf::actor directory, persistence::order_id_space ids,
                                    spawn_mode mode, persistence::retention_policy retention,
                                    std::shared_ptr<saga_load> load) {
  return spawn_in(sys, mode, order_index, db_path, level, std::move(store), std::move(directory),
                  ids, retention, std::move(load));
}

} // namespace emporium
