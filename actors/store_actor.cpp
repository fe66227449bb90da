// The store actor owns one SQLite connection. Saves that arrive while it is
// busy are batched: the first save of a batch queues a `flush` behind itself,
// so every save already in the mailbox joins the same transaction (group
// commit), and each saver gets its answer only after that commit.
// Group commit waits a little when saves arrive together (group_commit_delay).
// Carts are logged (entity_store.hpp): after the savers have their answers,
// the log is folded once it is due, and a timer folds what a quiet store
// would otherwise keep in its log; a fold that fails is retried after a
// back-off. Fold times are CAF's clock (the deterministic tests drive it).
#include "domain/backoff.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/node_metrics.hpp"
#include "actors/spawn_in.hpp"
#include "persistence/entity_store.hpp"
#include "persistence/fencing.hpp"
#include "support/thread_name.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace emporium {

namespace {

struct store_actor_state {
  std::unique_ptr<persistence::entity_store> store;
  std::vector<persistence::entity_write> batch;
  std::vector<caf::response_promise> waiting;
  bool flush_queued = false;
  bool fold_timer_set = false;
  int fold_failures = 0;                   // in a row; 0 after a fold that worked
  caf::actor_clock::time_point fold_retry_at{}; // no fold before this after a failure
  std::chrono::microseconds commit_delay{0}; // 0: never waits (see group_commit_delay)
  bool waited = false;             // the pending batch has had its wait
  std::size_t last_batch = 0;      // saves in the last commit
  event_sink on_event;
  metrics::counter* commits = nullptr; // this database file's cells
  metrics::histogram* saves_per_commit = nullptr;
  metrics::histogram* commit_duration = nullptr;
  metrics::histogram* fold_duration = nullptr;
  metrics::counter* fold_failures_metric = nullptr;
  metrics::gauge* mailbox = nullptr;
  std::uint32_t mailbox_samples = 0;
  std::string db; // the file's name, for logs and metrics
  static inline const char* name = "store";
};

/// Like PostgreSQL's commit_delay and commit_siblings: when the flush comes
/// up with fewer than `group_commit_target` saves while the previous commit
/// grouped more than one (savers are busy), the store sleeps this long once
/// and then commits whatever has arrived with the batch. Each commit costs
/// the same whatever its size (the WAL's lock, frame checksums and write),
/// so fewer, larger commits leave more CPU to the savers. Measured with
/// bench_actors (64 clients, 2 cores): batches of ~4.6 saves without the
/// wait; 100 us and 32 gave 0.30-0.32 of the forwarder against 0.25-0.29,
/// and 15.5-15.9 us of CPU per durable add against 17.8-18.9; 300 us gave
/// 0.27-0.28 (docs/benchmarks.md).
/// Only for a store on a thread of its own: on CAF's workers the sleep
/// would hold up other actors.
constexpr auto group_commit_delay = std::chrono::microseconds(100);
constexpr std::size_t group_commit_target = 32;

// The public interface plus the flush it queues behind a batch's first save
// and the fold timer.
using store_impl = store_actor::extend<caf::reacts_to<atoms::flush>, caf::reacts_to<atoms::fold>>;
using store_self = store_impl::stateful_pointer<store_actor_state>;

/// The wait before the next fold after `failures` failed ones in a row:
/// twice the policy's age, doubling, up to a minute.
caf::timespan fold_backoff(const persistence::fold_policy& policy, int failures) {
  return backoff{2 * policy.after, std::chrono::minutes(1)}.delay(
    static_cast<std::uint32_t>(failures));
}

/// Whether a failed fold's back-off still holds at `now`.
bool backing_off(const store_actor_state& st, caf::actor_clock::time_point now) {
  return st.fold_failures > 0 && now < st.fold_retry_at;
}

/// Another node owns the file now (this node was frozen or cut off): every
/// save still held hears "unavailable" (a retry reaches the new owner), and
/// the store stops; the router, seeing it stop, lets the shard go. A save
/// taken in but not committed yet (its flush queued behind a fold that
/// found the fence) must hear it too: CAF 0.17 drops an unanswered promise
/// silently, its entity waits for the answer without a timeout, and the
/// shard's drain would wait for that entity for good.
void stop_fenced(store_self self) {
  auto& st = self->state;
  for (auto& rp : st.waiting)
    rp.deliver(make_error(errc::unavailable));
  st.waiting.clear();
  st.batch.clear();
  self->quit(make_error(errc::unavailable));
}

/// Arms the fold timer `after` from now, unless it is armed already.
void arm_fold_timer(store_self self, caf::timespan after) {
  auto& st = self->state;
  if (st.fold_timer_set)
    return;
  st.fold_timer_set = true;
  self->delayed_send(self, after, atoms::fold::value);
}

/// Folds the log into the entities table; false when the file turned out
/// to be fenced (the store has quit). Another failure (a full disk, say)
/// leaves log and entities as they were, and the next try waits a back-off:
/// retried after every commit, a failing fold would cost each save a
/// transaction and log an error per commit.
bool fold(store_self self) {
  auto& st = self->state;
  auto rows = st.store->unfolded_rows();
  auto started = std::chrono::steady_clock::now();
  try {
    st.store->fold();
  } catch (const persistence::fenced_error& e) {
    log::write("warn", "shard_fenced", {{"db", st.db}, {"error", e.what()},
                                         {"held_saves", std::to_string(st.waiting.size())}});
    stop_fenced(self);
    return false;
  } catch (const std::exception& e) {
    auto wait = fold_backoff(st.store->policy(), ++st.fold_failures);
    st.fold_retry_at = self->clock().now() + wait;
    st.fold_failures_metric->inc();
    log::error("sqlite_fold_failed",
               {{"db", st.db}, {"error", e.what()}, {"rows", std::to_string(rows)},
                {"failures", std::to_string(st.fold_failures)},
                {"retry_ms", std::to_string(
                               std::chrono::duration_cast<std::chrono::milliseconds>(wait).count())}});
    arm_fold_timer(self, wait);
    return true;
  }
  st.fold_failures = 0;
  st.fold_duration->observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return true;
}

/// Folds when due (and not backing off after a failed fold); otherwise
/// makes sure a timer folds what is logged by the policy's age, so that
/// rows do not wait in the log for the next save.
bool fold_if_due(store_self self) {
  auto& st = self->state;
  auto now = self->clock().now();
  bool waiting = backing_off(st, now);
  if (!waiting && st.store->fold_due(now))
    return fold(self);
  if (st.store->unfolded_rows() != 0)
    arm_fold_timer(self, waiting ? st.fold_retry_at - now
                                 : caf::timespan{st.store->policy().after});
  return true;
}

/// Commits the batch and answers its savers, then folds the log if due;
/// false when the file turned out to be fenced (the store has quit).
bool flush(store_self self) {
  auto& st = self->state;
  st.flush_queued = false;
  st.waited = false;
  if (st.batch.empty())
    return true;
  st.last_batch = st.batch.size();
  caf::error outcome;
  bool fenced = false;
  auto started = std::chrono::steady_clock::now();
  try {
    st.store->commit(st.batch, self->clock().now());
  } catch (const persistence::fenced_error& e) {
    // Nothing of the batch was written to the shard (at most to the file
    // it moved away from, which nobody reads), and nothing more will be.
    outcome = make_error(errc::unavailable);
    fenced = true;
    log::write("warn", "shard_fenced", {{"db", self->state.db}, {"error", e.what()},
                                         {"writes", std::to_string(st.batch.size())}});
  } catch (const std::exception& e) {
    outcome = make_error(errc::storage_failure);
    log::error("sqlite_commit_failed", {{"db", self->state.db}, {"error", e.what()},
                                        {"writes", std::to_string(st.batch.size())}});
  }
  if (!outcome) {
    st.commits->inc();
    st.saves_per_commit->observe(static_cast<double>(st.batch.size()));
    st.commit_duration->observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  for (auto& rp : st.waiting) {
    if (outcome)
      rp.deliver(outcome);
    else
      rp.deliver(caf::unit);
  }
  // Published only after the commit: an event never announces a state that
  // is not durable. A crash right here loses no event either: clients
  // resume from the outbox table by sequence number.
  if (!outcome && st.on_event)
    for (const auto& w : st.batch)
      for (const auto& e : w.events)
        st.on_event(e);
  st.batch.clear();
  st.waiting.clear();
  if (fenced) {
    stop_fenced(self);
    return false;
  }
  return fold_if_due(self);
}

/// A write for this entity may still sit in the batch (its previous
/// incarnation crashed before the answer): commit before reading it. Any
/// other read goes past the batch, which keeps growing.
void flush_if_pending(store_self self, std::uint8_t kind, const std::string& id) {
  auto& batch = self->state.batch;
  if (std::any_of(batch.begin(), batch.end(),
                  [&](const auto& w) { return w.kind == kind && w.id == id; }))
    flush(self);
}

caf::response_promise enqueue(store_self self, persistence::entity_write write) {
  auto& st = self->state;
  st.batch.push_back(std::move(write));
  auto promise = self->make_response_promise();
  st.waiting.push_back(promise);
  if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, atoms::flush::value);
  }
  return promise;
}

store_impl::behavior_type store_behavior(store_self self, std::string path,
                                         persistence::durability level, event_sink on_event,
                                         persistence::epoch_fence fence,
                                         std::chrono::microseconds commit_delay, bool own_thread) {
  self->state.commit_delay = commit_delay;
  // Carts are written on every add and read only by their own entity (and
  // so only through this store): they go through the log.
  self->state.store = std::make_unique<persistence::entity_store>(
    path, level, std::move(fence),
    persistence::log_kind(static_cast<std::uint8_t>(entity_kind::cart)));
  self->state.on_event = std::move(on_event);
  auto& m = node_metrics::get();
  auto db = std::filesystem::path{path}.filename().string();
  self->state.db = db;
  // A detached actor's behaviour is made on its own thread: "store shard-03".
  if (own_thread)
    name_this_thread("store " + std::filesystem::path{path}.stem().string());
  self->state.commits = &m.commits->with({db});
  self->state.saves_per_commit = &m.saves_per_commit->with({db});
  self->state.commit_duration = &m.commit_duration->with({db});
  self->state.fold_duration = &m.fold_duration->with({db});
  self->state.fold_failures_metric = &m.fold_failures->with({db});
  self->state.mailbox = &m.mailbox_depth->with({"store", db});
  // Asked to stop (its shard drains): a save already taken from the mailbox
  // waits in the batch for the flush queued behind it, which would never
  // run. CAF 0.17 drops an unanswered promise silently, so its saver (an
  // order placement) would wait for good: commit and answer first.
  // The log is folded too, so a shard handed over in order leaves none.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (flush(self) && (self->state.store->unfolded_rows() == 0 || fold(self)))
      self->quit(std::move(msg.reason));
  });
  return {
    [self](const load_state& req) -> caf::result<persistence::snapshot> {
      flush_if_pending(self, req.kind, req.id);
      try {
        return self->state.store->load(req.kind, req.id);
      } catch (const std::exception&) {
        return make_error(errc::storage_failure);
      }
    },
    [self](save_state& req) -> caf::result<void> {
      sample_mailbox(self, *self->state.mailbox, self->state.mailbox_samples);
      return enqueue(self, std::move(req.write));
    },
    [self](const was_sold& req) -> caf::result<bool> {
      flush_if_pending(self, req.kind, req.product);
      try {
        return self->state.store->sold(std::stoll(req.product), req.order);
      } catch (const std::exception&) {
        return make_error(errc::storage_failure);
      }
    },
    [self](const sweep_retention& req) -> caf::result<persistence::retention_swept> {
      try {
        return self->state.store->sweep(req.cutoffs);
      } catch (const std::exception& e) {
        log::error("retention_sweep_failed", {{"db", self->state.db}, {"error", e.what()}});
        return make_error(errc::storage_failure);
      }
    },
    [self](atoms::flush) {
      auto& st = self->state;
      if (st.commit_delay.count() > 0 && !st.waited && st.last_batch > 1 &&
          st.batch.size() < group_commit_target) {
        st.waited = true;
        std::this_thread::sleep_for(st.commit_delay);
        self->send(self, atoms::flush::value); // behind what arrived meanwhile
        return;
      }
      flush(self);
    },
    [self](atoms::fold) {
      // Rows logged since a fold the timer did not see may be younger than
      // the policy's age: folded early, which is harmless.
      auto& st = self->state;
      st.fold_timer_set = false;
      if (st.store->unfolded_rows() == 0)
        return;
      auto now = self->clock().now();
      if (backing_off(st, now))
        arm_fold_timer(self, st.fold_retry_at - now); // armed before the failure
      else
        fold(self);
    },
  };
}

} // namespace

store_actor spawn_store(caf::actor_system& sys, const std::string& db_path,
                        persistence::durability level, spawn_mode mode, event_sink on_event,
                        persistence::epoch_fence fence,
                        std::optional<std::chrono::microseconds> commit_delay) {
  auto delay = commit_delay.value_or(mode == spawn_mode::own_thread
                                       ? group_commit_delay
                                       : std::chrono::microseconds(0));
  return spawn_in(sys, mode, store_behavior, db_path, level, std::move(on_event),
                  std::move(fence), delay, mode == spawn_mode::own_thread);
}

} // namespace emporium
