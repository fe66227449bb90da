// The entity directory (see directory.hpp for the slot life cycle).
#include "actors/directory.hpp"
#include "domain/backoff.hpp"

#include "actors/entity_runtime.hpp"
#include "actors/node_metrics.hpp"

#include <memory>
#include <unordered_map>

namespace emporium {

namespace {

enum class phase : std::uint8_t { running, stopping, restarting };

/// A message that arrived while its entity was not running.
struct parked {
  caf::message payload;
  caf::response_promise promise;
};

struct slot;
using entry = std::pair<const entity_ref, slot>; // a node of the slot map: never moves

/// One per entity the directory knows: 56 bytes, so that with its key (16)
/// the map's node fits jemalloc's 96-byte class (every resident entity has
/// one).
struct slot {
  caf::actor handle;
  phase state = phase::running;
  bool pinned = false; // entity asked not to be passivated (timers running)
  entity_kind kind = entity_kind::cart; // for the metrics (fits in the padding)
  std::uint32_t crash_streak = 0;       // crashes without a calm period
  // While running, its last use; while restarting, when the restart is due.
  caf::actor_clock::time_point last_used;
  caf::actor_clock::time_point activated_at;
  // The recency list runs through the slots themselves (valid while
  // running): a separate list node per entity cost 32 bytes more.
  entry* newer = nullptr;
  entry* older = nullptr;
  // Messages that arrived while the entity was not running; allocated only
  // then (an empty deque cost ~600 bytes per slot, an empty vector 24).
  std::unique_ptr<std::vector<parked>> waiting;
  std::size_t waiting_count() const { return waiting ? waiting->size() : 0; }
};

static_assert(sizeof(void*) != 8 || sizeof(slot) <= 56, "a slot outgrew its size class");

/// Running entities, most recently used first.
struct recency_list {
  entry* newest = nullptr;
  entry* oldest = nullptr;

  void push_front(entry& e) {
    e.second.newer = nullptr;
    e.second.older = newest;
    (newest ? newest->second.newer : oldest) = &e;
    newest = &e;
  }
  void unlink(entry& e) {
    auto& s = e.second;
    (s.newer ? s.newer->second.older : newest) = s.older;
    (s.older ? s.older->second.newer : oldest) = s.newer;
    s.newer = s.older = nullptr;
  }
  void to_front(entry& e) {
    if (newest != &e) {
      unlink(e);
      push_front(e);
    }
  }
};

/// An entity that ran this long before crashing starts its backoff afresh.
constexpr auto calm_period = std::chrono::seconds(30);

struct directory_state {
  directory_options opts;
  shared_services svc;
  // Found by the entity_key a message carries; the key stored is an
  // entity_ref, whose id text the running entity shares.
  std::unordered_map<entity_ref, slot, entity_ref_hash, entity_ref_equal> slots;
  std::unordered_map<caf::actor_id, entry*> by_actor;
  recency_list lru;
  directory_stats stats;
  caf::error shutdown_reason; // set once asked to exit: drain, then quit
  // Passivations wait here and go out in chunks, so a sweep or a shutdown
  // over many entities never holds up routing for long.
  std::vector<entity_ref> to_passivate;
  bool passivation_queued = false;
  metrics::gauge* mailbox = nullptr;
  std::uint32_t mailbox_samples = 0;
  static inline const char* name = "directory";

  directory_state() = default;
  directory_state(const directory_state&) = delete;
  directory_state& operator=(const directory_state&) = delete;
  /// A directory that ends without draining (killed along with its node's
  /// router: `kill` cannot be trapped, so begin_shutdown never ran) takes
  /// its running entities along, as the end of its process would. Its
  /// entities are monitored, not linked, and one holding a timer or a
  /// request (a saga) would otherwise outlive it. After a drain none is left.
  ~directory_state() {
    for (auto& [id, e] : by_actor)
      caf::anon_send_exit(e->second.handle, caf::exit_reason::kill);
  }
};

using directory_self = caf::stateful_actor<directory_state>;

/// Spawns the entity of `key`; `first` is the message activating it (empty
/// on a restart, which must read the durable state).
void activate(directory_self* self, entry& e, const caf::message& first = {});
void queue_passivation(directory_self* self, const entity_ref& key);

void touch(directory_self* self, entry& e) {
  e.second.last_used = self->clock().now();
  self->state.lru.to_front(e);
}

/// Asks a running entity to stop; it finishes what is in its mailbox first
/// (FIFO), so nothing forwarded before this is lost. Until its down message
/// arrives, new messages for it are parked.
void passivate(directory_self* self, entry& e) {
  auto& st = self->state;
  auto& s = e.second;
  self->send(s.handle, atoms::passivate::value);
  st.lru.unlink(e);
  s.state = phase::stopping;
  --st.stats.resident;
  ++st.stats.passivations;
  auto kind = static_cast<std::size_t>(s.kind);
  node_metrics::get().resident[kind]->add(-1);
  node_metrics::get().passivations[kind]->inc();
}

/// Keeps the node under its cap by passivating the least recently used
/// entity that is not pinned.
void enforce_cap(directory_self* self) {
  auto& st = self->state;
  if (st.stats.resident < st.opts.max_resident)
    return;
  for (auto* victim = st.lru.oldest; victim != nullptr; victim = victim->second.newer) {
    if (!victim->second.pinned) {
      passivate(self, *victim);
      return;
    }
  }
}

void activate(directory_self* self, entry& e, const caf::message& first) {
  auto& st = self->state;
  const auto& key = e.first;
  auto& s = e.second;
  enforce_cap(self);
  s.handle = st.opts.spawn ? st.opts.spawn(self->system(), key, st.svc, first)
                          : spawn_entity(self->system(), key, st.svc, first);
  s.state = phase::running;
  s.pinned = false;
  self->monitor(s.handle);
  st.lru.push_front(e);
  s.last_used = s.activated_at = self->clock().now();
  st.by_actor[s.handle.id()] = &e;
  ++st.stats.resident;
  ++st.stats.activations;
  s.kind = key.kind;
  auto& m = node_metrics::get();
  m.resident[static_cast<std::size_t>(key.kind)]->add(1);
  m.activations[static_cast<std::size_t>(key.kind)]->inc();
  if (auto waiting = std::move(s.waiting)) {
    m.parked->add(-static_cast<double>(waiting->size()));
    for (auto& p : *waiting)
      p.promise.delegate(s.handle, std::move(p.payload));
  }
}

void park(directory_self* self, slot& s, caf::message& payload) {
  auto rp = self->make_response_promise();
  if (s.waiting_count() >= self->state.opts.max_buffered) {
    rp.deliver(make_error(errc::unavailable));
    return;
  }
  if (!s.waiting)
    s.waiting = std::make_unique<std::vector<parked>>();
  s.waiting->push_back(parked{std::move(payload), std::move(rp)});
  node_metrics::get().parked->add(1);
}

void route(directory_self* self, const entity_key& key, caf::message& payload) {
  auto& st = self->state;
  if (st.shutdown_reason) {
    self->make_response_promise().deliver(make_error(errc::unavailable));
    return;
  }
  if (!is_valid_key(key)) {
    self->make_response_promise().deliver(make_error(errc::invalid_argument));
    return;
  }
  auto it = st.slots.find(key);
  if (it == st.slots.end()) {
    it = st.slots.emplace(entity_ref{key}, slot{}).first;
    activate(self, *it, payload);
  }
  auto& s = it->second;
  if (s.state == phase::restarting &&
      s.last_used - self->clock().now() > st.opts.longest_wait_for_restart) {
    self->make_response_promise().deliver(make_error(errc::unavailable));
    return;
  }
  if (s.state != phase::running) {
    park(self, s, payload);
    return;
  }
  touch(self, *it);
  self->delegate(s.handle, std::move(payload));
}

std::chrono::milliseconds restart_delay(const directory_options& opts, std::uint32_t streak) {
  return backoff{opts.backoff_base, opts.backoff_max}.delay(streak);
}

/// Quits once every entity has stopped (after a shutdown request).
void finish_shutdown_if_drained(directory_self* self) {
  auto& st = self->state;
  if (st.shutdown_reason && st.by_actor.empty())
    self->quit(st.shutdown_reason);
}

/// Asked to stop again while draining (its shard's drain passed its
/// deadline, router_options::drain_deadline): the entities still running
/// are killed. Each one's acknowledged state is on disk already (write
/// before reply), so nothing acknowledged is lost; a write still in flight
/// is answered to nobody, as in a crash.
void force_shutdown(directory_self* self) {
  auto& st = self->state;
  for (auto& [id, e] : st.by_actor)
    self->send_exit(e->second.handle, caf::exit_reason::kill);
  log::warn("directory_drain_forced", {{"entities", std::to_string(st.by_actor.size())}});
}

/// Answers every message waiting for the entity `unavailable`.
void refuse_waiting(slot& s) {
  if (auto waiting = std::move(s.waiting)) {
    for (auto& p : *waiting)
      p.promise.deliver(make_error(errc::unavailable));
    node_metrics::get().parked->add(-static_cast<double>(waiting->size()));
  }
}

/// Shutdown: every entity finishes its mailbox and in-flight writes, then
/// the directory quits with the reason it was given; parked messages get
/// `unavailable` (their callers learn it, nothing is silently dropped).
/// A second request forces it (force_shutdown).
void begin_shutdown(directory_self* self, caf::error reason) {
  auto& st = self->state;
  if (st.shutdown_reason)
    return force_shutdown(self);
  st.shutdown_reason = reason ? std::move(reason) : caf::exit_reason::user_shutdown;
  for (auto& [key, s] : st.slots) {
    refuse_waiting(s);
    if (s.state == phase::running)
      queue_passivation(self, key);
  }
  finish_shutdown_if_drained(self);
}

void on_down(directory_self* self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto found = st.by_actor.find(msg.source.id());
  if (found == st.by_actor.end())
    return;
  entry& e = *found->second;
  st.by_actor.erase(found);
  const entity_ref& key = e.first;
  auto it = st.slots.find(key);
  auto& s = e.second;
  s.handle = nullptr;
  if (s.state == phase::running) {
    // Died without being asked: it is no longer resident (and leaves the
    // recency list before its slot can go).
    st.lru.unlink(*it);
    --st.stats.resident;
    node_metrics::get().resident[static_cast<std::size_t>(s.kind)]->add(-1);
  }
  if (st.shutdown_reason) {
    st.slots.erase(it);
    finish_shutdown_if_drained(self);
    return;
  }
  bool crashed = msg.reason && msg.reason != caf::exit_reason::normal;
  if (crashed) {
    s.state = phase::restarting;
    if (self->clock().now() - s.activated_at > calm_period)
      s.crash_streak = 0;
    ++s.crash_streak;
    ++st.stats.restarts;
    node_metrics::get().crashes[static_cast<std::size_t>(s.kind)]->inc();
    auto delay = restart_delay(st.opts, s.crash_streak);
    s.last_used = self->clock().now() + delay;
    if (delay > st.opts.longest_wait_for_restart)
      refuse_waiting(s);
    log::warn("entity_crashed", {{"kind", std::to_string(static_cast<int>(s.kind))},
                                 {"id", key.id.str()},
                                 {"reason", caf::to_string(msg.reason)},
                                 {"restart_in_ms", std::to_string(delay.count())}});
    self->delayed_send(self, delay, atoms::restart::value, key.key());
    return;
  }
  if (s.waiting_count() == 0)
    st.slots.erase(it); // passivated and nobody waits: forget it
  else
    activate(self, *it);
}

constexpr std::size_t passivation_chunk = 256;

/// Passivates the next chunk of queued keys (those still running).
void passivate_some(directory_self* self) {
  auto& st = self->state;
  st.passivation_queued = false;
  std::size_t n = std::min(passivation_chunk, st.to_passivate.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto it = st.slots.find(st.to_passivate.back());
    st.to_passivate.pop_back();
    if (it != st.slots.end() && it->second.state == phase::running &&
        (st.shutdown_reason || !it->second.pinned))
      passivate(self, *it);
  }
  if (!st.to_passivate.empty()) {
    st.passivation_queued = true;
    self->send(self, atoms::passivate::value);
  }
}

void queue_passivation(directory_self* self, const entity_ref& key) {
  auto& st = self->state;
  st.to_passivate.push_back(key);
  if (!st.passivation_queued) {
    st.passivation_queued = true;
    self->send(self, atoms::passivate::value);
  }
}

void sweep_idle(directory_self* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  // The list is ordered by last use: stop at the first entity still fresh.
  for (auto* e = st.lru.oldest; e != nullptr; e = e->second.newer) {
    if (now - e->second.last_used < st.opts.idle_timeout)
      break;
    if (!e->second.pinned)
      queue_passivation(self, e->first);
  }
}

caf::behavior directory_actor(directory_self* self, directory_options opts,
                              entity_services svc) {
  svc.directory = caf::actor_cast<caf::actor>(self);
  self->state.opts = opts;
  self->state.svc = std::make_shared<const entity_services>(std::move(svc));
  // Labelled by actor id: one directory per shard a node runs.
  self->state.mailbox =
    &node_metrics::get().mailbox_depth->with({"directory", std::to_string(self->id())});
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  self->set_exit_handler([self](caf::exit_msg& msg) { begin_shutdown(self, msg.reason); });
  auto sweep_every = std::max<std::chrono::milliseconds>(opts.idle_timeout / 4,
                                                          std::chrono::milliseconds(10));
  if (opts.idle_timeout.count() > 0)
    self->delayed_send(self, sweep_every, atoms::sweep::value);
  return {
    [self](entity_key& key, caf::message& payload) {
      sample_mailbox(self, *self->state.mailbox, self->state.mailbox_samples);
      route(self, key, payload);
    },
    [self](atoms::pin, const entity_key& key, bool pinned) {
      auto it = self->state.slots.find(key);
      if (it != self->state.slots.end())
        it->second.pinned = pinned;
    },
    [self](atoms::restart, const entity_key& key) {
      if (self->state.shutdown_reason)
        return;
      auto it = self->state.slots.find(key);
      if (it != self->state.slots.end() && it->second.state == phase::restarting) {
        node_metrics::get().restarts[static_cast<std::size_t>(key.kind)]->inc();
        log::info("entity_restarted",
                  {{"kind", std::to_string(static_cast<int>(key.kind))}, {"id", key.id}});
        activate(self, *it);
      }
    },
    [self, sweep_every](atoms::sweep) {
      sweep_idle(self);
      self->delayed_send(self, sweep_every, atoms::sweep::value);
    },
    [self](atoms::passivate) { passivate_some(self); },
    [self](atoms::whereis, const entity_key& key) -> caf::actor {
      auto it = self->state.slots.find(key);
      if (it == self->state.slots.end() || it->second.state != phase::running)
        return {};
      return it->second.handle;
    },
    [self](atoms::stats) { return self->state.stats; },
  };
}

} // namespace

caf::actor spawn_directory(caf::actor_system& sys, directory_options opts,
                           entity_services svc) {
  return sys.spawn(directory_actor, opts, std::move(svc));
}

} // namespace emporium
