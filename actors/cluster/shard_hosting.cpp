// Opening and draining the shards this node owns (see router_state.hpp).
// A shard here is an exclusive lock file plus a store, a directory, an order
// index and an accounts actor on the shard's own SQLite file.
#include "actors/cluster/router_state.hpp"

#include "actors/accounts/accounts_actor.hpp"
#include "actors/node_metrics.hpp"
#include "actors/order/order_index_actor.hpp"
#include "persistence/shard_files.hpp"

#include "support/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace emporium::cluster_router {

namespace {

/// Any handle of a shard's actors, typed or not.
template <class Handle>
void watch(router_self* self, const Handle& a, std::uint32_t shard) {
  self->monitor(a);
  (*self->state.shard_actors)[a.address()] = {shard, caf::actor_cast<caf::actor>(a)};
}

/// Its unfinished sagas resume once the shard is open.
void resume_sagas(router_self* self, std::uint32_t shard) {
  auto directory = self->state.shards[shard].directory;
  self->request(self->state.shards[shard].index, std::chrono::seconds(30), unfinished_orders{})
    .then(
      [directory, shard, asked = std::chrono::steady_clock::now()](
        const std::vector<std::int64_t>& ids) {
        // How many, and how long the listing took: an operator's measure
        // of what a restart or a takeover left to finish.
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - asked)
                    .count();
        log::info("orders_resumed", {{"shard", std::to_string(shard)},
                                     {"orders", std::to_string(ids.size())},
                                     {"listed_after_ms", std::to_string(ms)}});
        for (auto id : ids)
          caf::anon_send(directory, entity_key{entity_kind::order, std::to_string(id)},
                         caf::make_message(start_order{}));
      },
      [shard](const caf::error& e) {
        log::error("orders_resume_failed",
                   {{"shard", std::to_string(shard)}, {"error", caf::to_string(e)}});
      });
}

/// Asks every live peer whether it still reaches `holder`; when none does,
/// the takeover of `shard` is cleared for a moment and tried again.
void ask_peers_about(router_self* self, std::uint32_t shard, const std::string& holder) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  if (slot.asking_peers)
    return;
  auto cleared = [self, shard, holder] {
    auto& s = self->state.shards[shard];
    s.cleared_holder = holder;
    s.cleared_at = self->clock().now();
    try_acquire(self, shard);
  };
  if (st.peers.empty())
    return cleared();
  slot.asking_peers = true;
  struct tally {
    std::size_t waiting;
    bool someone_sees = false;
  };
  auto t = std::make_shared<tally>(tally{st.peers.size()});
  auto answered = [self, shard, t, cleared](bool sees) {
    t->someone_sees = t->someone_sees || sees;
    if (--t->waiting > 0)
      return;
    self->state.shards[shard].asking_peers = false;
    if (!t->someone_sees)
      cleared();
  };
  for (const auto& [name, p] : st.peers)
    self->request(p.handle, std::chrono::seconds(1), atoms::sees::value, holder)
      .then([answered](bool sees) { answered(sees); },
            // No answer: it may be leaving; not a "no".
            [answered](const caf::error&) { answered(true); });
}

/// With the shard's lock held, its former holder has let go of every file:
/// the files a relocation left behind can go.
void drop_superseded_files(std::uint32_t shard, const std::string& data_dir) {
  try {
    if (auto n = persistence::remove_superseded_files(data_dir, shard); n > 0)
      log::write("info", "shard_files_removed",
                 {{"shard", std::to_string(shard)}, {"files", std::to_string(n)}});
  } catch (const std::exception& e) {
    log::error("shard_files_not_removed",
               {{"shard", std::to_string(shard)}, {"error", e.what()}});
  }
}

/// Whether this node may take a shard whose lock another process still
/// holds. The lock says who holds a shard among nodes that cooperate: a live
/// member keeps it while it drains, and we wait. A holder that no member of
/// our quorum reaches (frozen, or alive on the other side of a partition)
/// may never let go in time, so after the grace period the owner by the
/// quorum's view raises the file's epoch instead, which fences the holder's
/// writes (persistence/fencing.hpp), and takes the lock once it is free.
bool may_take_over(router_self* self, std::uint32_t shard, const std::string& path) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  auto now = self->clock().now();
  if (!st.quorum || slot.owner != st.opts.node_name ||
      now - slot.acquiring_since < st.opts.takeover_grace)
    return false;
  std::string holder;
  try {
    holder = persistence::current_ownership(path, st.opts.level).node;
  } catch (const std::exception& e) {
    if (auto held = slot.open_failures.admit(e.what(), self->clock().now()))
      log::error("shard_ownership_unreadable", {{"shard", std::to_string(shard)},
                                                {"error", e.what()},
                                                {"suppressed", std::to_string(*held)}});
    return false;
  }
  if (holder.empty() || st.peers.count(holder) > 0)
    return false; // a live member draining (or one that has not raised an epoch yet)
  if (slot.cleared_holder == holder && now - slot.cleared_at < std::chrono::seconds(1))
    return true;
  ask_peers_about(self, shard, holder);
  return false;
}

/// Opens a shard: takes its lock (or, failing that, takes it over), raises
/// its ownership epoch, starts store, directory, order index and accounts on
/// its file; then resumes its unfinished sagas and lets waiting messages in.
bool open_shard(router_self* self, std::uint32_t shard) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  if (self->clock().now() < slot.hold_until)
    return false; // fenced a moment ago: let the membership view catch up
  if (!slot.lock)
    slot.lock = persistence::file_lock::try_acquire(
      persistence::shard_lock_path(st.opts.data_dir, shard));
  std::string path;
  std::optional<std::int64_t> epoch;
  try {
    path = persistence::current_shard_db(st.opts.data_dir, shard);
    if (!slot.lock && !may_take_over(self, shard, path))
      return false; // the previous owner has not let go yet
    auto marker = persistence::relocation_marker_path(st.opts.data_dir, shard);
    epoch = persistence::take_ownership(path, st.opts.node_name, st.opts.level,
                                        persistence::relocated_epoch(marker));
    if (!epoch && !slot.lock) {
      // A holder no member reaches is inside a write transaction (frozen
      // there: it keeps SQLite's write lock until it runs again). The
      // shard moves to a new file, which fences it (shard_files.hpp).
      auto started = std::chrono::steady_clock::now(); // real time: a copy is real work
      auto moved = persistence::relocate_shard(st.opts.data_dir, shard, st.opts.node_name,
                                               st.opts.level);
      log::write("warn", "shard_relocated",
                 {{"shard", std::to_string(shard)},
                  {"from", path},
                  {"to", moved.path},
                  {"epoch", std::to_string(moved.epoch)},
                  {"copy_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count())}});
      path = moved.path;
      epoch = moved.epoch;
    }
  } catch (const std::exception& e) {
    if (auto held = slot.open_failures.admit(e.what(), self->clock().now()))
      log::error("shard_ownership_not_taken", {{"shard", std::to_string(shard)},
                                               {"error", e.what()},
                                               {"suppressed", std::to_string(*held)}});
    return false;
  }
  if (!epoch) {
    // Another process is inside a write transaction on the file although
    // we hold the lock (a holder that just let go finishing its commit):
    // a moment later (said once).
    if (!slot.write_lock_logged)
      log::write("warn", "shard_write_locked", {{"shard", std::to_string(shard)}});
    slot.write_lock_logged = true;
    return false;
  }
  slot.write_lock_logged = false;
  slot.open_failures.clear();
  if (slot.lock)
    drop_superseded_files(shard, st.opts.data_dir);
  slot.fence->store(*epoch);
  auto& sys = self->system();
  slot.store = spawn_store(sys, path, st.opts.level, st.opts.sqlite_actors, st.sink, slot.fence);
  entity_services svc;
  svc.store = slot.store;
  svc.router = caf::actor_cast<caf::actor>(self);
  svc.stock_events = st.svc.catalog;
  svc.payment = st.svc.payment;
  svc.saga = st.svc.saga;
  slot.directory = spawn_directory(sys, st.opts.directory, svc);
  // The index runs on CAF's workers: a placement is in-memory work plus a
  // hand-off to the store, and a thread of its own cost a wake-up per
  // order; its reads (history, resume, start-up scan) are indexed and rare.
  slot.index = spawn_order_index(sys, path, st.opts.level, slot.store, slot.directory,
                                 {static_cast<std::int64_t>(shard) + 1,
                                  static_cast<std::int64_t>(st.opts.shards)},
                                 spawn_mode::workers, st.opts.retention, st.svc.saga.load);
  slot.accounts = spawn_accounts(sys, path, st.opts.level, st.opts.shards,
                                 st.opts.sqlite_actors, slot.fence,
                                 st.opts.accounts);
  watch(self, slot.store, shard);
  watch(self, slot.directory, shard);
  watch(self, slot.index, shard);
  watch(self, slot.accounts, shard);
  slot.state = phase::ready;
  slot.holder.clear(); // we are
  auto& m = node_metrics::get();
  auto took = std::chrono::duration<double>(self->clock().now() - slot.acquiring_since).count();
  m.handoffs->inc();
  m.handoff_duration->observe(took);
  log::write("info", "shard_opened",
             {{"shard", std::to_string(shard)},
              {"epoch", std::to_string(*epoch)},
              {"taken_over", slot.lock ? "false" : "true"},
              {"waited_ms", std::to_string(static_cast<long>(took * 1000))},
              {"parked", std::to_string(slot.waiting.size())}});
  if (!slot.lock) // taken over: the lock follows once its holder lets go
    self->delayed_send(self, std::chrono::milliseconds(200), atoms::acquire::value, shard);
  announce_holding(self, shard, true);
  resume_sagas(self, shard);
  flush_waiting(self, shard);
  update_health(self);
  return true;
}

/// The drained shard's actors are gone: unlock it, reopen it if it is still
/// ours, and send what waited for it on.
void shard_closed(router_self* self, std::uint32_t shard) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  slot.store = nullptr;
  slot.index = nullptr;
  slot.directory = nullptr;
  slot.accounts = nullptr;
  slot.lock.reset(); // now the new owner may open the file
  slot.fence->store(0);
  slot.state = phase::absent;
  auto took = std::chrono::duration<double>(self->clock().now() - slot.releasing_since).count();
  log::write("info", "shard_released",
             {{"shard", std::to_string(shard)},
              {"drained_ms", std::to_string(static_cast<long>(took * 1000))},
              {"new_owner", slot.owner}});
  update_health(self);
  if (st.stopping) {
    quit_when_done(self);
    return;
  }
  if (slot.owner == st.opts.node_name) {
    slot.state = phase::acquiring;
    slot.acquiring_since = self->clock().now();
    try_acquire(self, shard);
  }
  flush_waiting(self, shard);
}

/// True when another node raised the shard file's epoch past the one this
/// node writes with (a takeover): our writes are fenced, our memory may be
/// older than the file. An unreadable file counts as not fenced.
bool fenced_by_newer_epoch(router_self* self, std::uint32_t shard) {
  auto& st = self->state;
  try {
    return persistence::shard_epoch(st.opts.data_dir, shard, st.opts.level) !=
           st.shards[shard].fence->load();
  } catch (const std::exception&) {
    return false;
  }
}

/// The shard starts draining: its four actors are to stop, the clocks of
/// the drain's warning and deadline start now (drained_ms counts from here).
void begin_drain(router_self* self, shard_slot& slot) {
  slot.state = phase::releasing;
  slot.running = 4;
  slot.releasing_since = self->clock().now();
  slot.drain_slow_logged = false;
  slot.drain_forced = false;
  slot.directory_stopped = false;
}

/// Whoever has the shard open keeps it until its owner asks (recompute):
/// every peer hears, since what we know of the holder may be out of date.
void ask_holder_to_let_go(router_self* self, std::uint32_t shard) {
  for (const auto& [name, p] : self->state.peers)
    self->send(p.handle, atoms::wanted::value, shard, self->state.opts.node_name);
}

} // namespace

void update_health(router_self* self) {
  auto& st = self->state;
  std::uint32_t owned = 0, ready = 0;
  for (const auto& s : st.shards) {
    owned += s.owner == st.opts.node_name;
    ready += s.state == phase::ready;
  }
  st.health->quorum = st.quorum;
  st.health->live_members = static_cast<std::uint32_t>(st.peers.size() + 1);
  st.health->owned_shards = owned;
  st.health->ready_shards = ready;
  auto& m = node_metrics::get();
  m.quorum->set(st.quorum ? 1 : 0);
  m.live_members->set(static_cast<double>(st.peers.size() + 1));
  m.configured_members->set(static_cast<double>(st.seeds.size() + 1));
  m.incompatible_members->set(static_cast<double>(
    std::count_if(st.seeds.begin(), st.seeds.end(),
                  [](const seed_state& s) { return !s.incompatible.empty(); })));
  m.shards_owned->set(owned);
  m.shards_ready->set(ready);
}

void try_acquire(router_self* self, std::uint32_t shard) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  if (slot.state == phase::ready && !slot.lock && !st.stopping) {
    // Held by epoch since a takeover: take the lock as soon as it is free,
    // so that a cooperating node sees the shard held again.
    slot.lock = persistence::file_lock::try_acquire(
      persistence::shard_lock_path(st.opts.data_dir, shard));
    if (!slot.lock) {
      // The lock's holder may still think the shard is open there (it never
      // wrote since we raised the epoch): it keeps it until we ask.
      ask_holder_to_let_go(self, shard);
      self->delayed_send(self, std::chrono::milliseconds(200), atoms::acquire::value, shard);
    } else {
      drop_superseded_files(shard, st.opts.data_dir);
    }
    return;
  }
  if (slot.state != phase::acquiring || st.stopping)
    return;
  if (open_shard(self, shard))
    return;
  ask_holder_to_let_go(self, shard);
  self->delayed_send(self, std::chrono::milliseconds(100), atoms::acquire::value, shard);
}

void on_wanted(router_self* self, std::uint32_t shard, const std::string& node) {
  auto& st = self->state;
  if (shard >= st.opts.shards || node == st.opts.node_name || st.stopping)
    return; // from the network: checked before it indexes anything
  auto& slot = st.shards[shard];
  if (slot.state != phase::ready)
    return;
  if (slot.owner == node) {
    release_shard(self, shard); // our views agree: it is theirs
    return;
  }
  // We own it, have it open, and a peer asks for it: that peer holds it by
  // epoch (a takeover while a flapping link made it the owner) and waits
  // for our lock. Nobody else would ever ask it to let go, so both would
  // keep the shard open for good: ask it back. It lets go once its view
  // agrees that the shard is ours.
  auto peer = st.peers.find(node);
  if (slot.owner != st.opts.node_name || peer == st.peers.end())
    return;
  self->send(peer->second.handle, atoms::wanted::value, shard, st.opts.node_name);
  // Its takeover raised the shard's epoch, so what our entities hold in
  // memory may be older than the file: reopen from the file once it lets go
  // (we are the owner, so closing it reacquires it). The file is read only
  // when the asker told us it has the shard open (it says so on rejoining):
  // a peer that merely waits for the lock, asking every 100 ms, costs this
  // router no file access.
  if (slot.holder != node)
    return;
  if (fenced_by_newer_epoch(self, shard)) {
    log::write("warn", "shard_reopened_after_takeover", {{"shard", std::to_string(shard)},
                                                         {"by", node}});
    release_shard(self, shard);
  }
}

/// Drains a shard: its directory stops every entity (they finish their
/// mailboxes and writes), then the index and store stop, then the lock goes.
void release_shard(router_self* self, std::uint32_t shard) {
  auto& slot = self->state.shards[shard];
  if (slot.state == phase::acquiring) {
    slot.state = phase::absent;
    return;
  }
  if (slot.state != phase::ready)
    return;
  begin_drain(self, slot);
  announce_holding(self, shard, false);
  self->send_exit(slot.directory, caf::exit_reason::user_shutdown);
}

void watch_drains(router_self* self) {
  constexpr auto slow = std::chrono::seconds(10);
  auto now = self->clock().now();
  for (std::uint32_t s = 0; s < self->state.opts.shards; ++s) {
    auto& slot = self->state.shards[s];
    if (slot.state != phase::releasing)
      continue;
    auto waited = now - slot.releasing_since;
    auto say = [&](const char* level, const char* msg) {
      log::write(level, msg,
                 {{"shard", std::to_string(s)},
                  {"waited_ms", std::to_string(
                                  std::chrono::duration_cast<std::chrono::milliseconds>(waited)
                                    .count())},
                  {"actors_running", std::to_string(slot.running)},
                  {"new_owner", slot.owner}});
    };
    if (!slot.drain_slow_logged && waited >= slow) {
      slot.drain_slow_logged = true;
      say("warn", "shard_drain_slow");
    }
    if (slot.drain_forced || waited < self->state.opts.drain_deadline)
      continue;
    // Every entity's acknowledged state is on disk (write before reply),
    // so ending the rest by force loses nothing acknowledged; a write still
    // in flight is answered to nobody, as in a crash, and its caller times
    // out. A second exit makes the directory kill the entities still
    // running; with the directory gone, what still runs is killed here.
    slot.drain_forced = true;
    say("error", "shard_drain_forced");
    if (!slot.directory_stopped) {
      self->send_exit(slot.directory, caf::exit_reason::user_shutdown);
      continue;
    }
    self->send_exit(slot.index, caf::exit_reason::kill);
    self->send_exit(slot.accounts, caf::exit_reason::kill);
    if (slot.store)
      self->send_exit(slot.store, caf::exit_reason::kill);
  }
}

void announce_holding(router_self* self, std::uint32_t shard, bool open) {
  for (const auto& [name, p] : self->state.peers)
    self->send(p.handle, shard_holding{shard, self->state.opts.node_name, open});
}

void announce_open_shards(router_self* self, const caf::actor& peer) {
  auto& st = self->state;
  for (std::uint32_t s = 0; s < st.opts.shards; ++s)
    if (st.shards[s].state == phase::ready)
      self->send(peer, shard_holding{s, st.opts.node_name, true});
}

void on_holding(router_self* self, const shard_holding& note) {
  auto& st = self->state;
  if (note.shard >= st.opts.shards || note.node == st.opts.node_name)
    return; // from the network: checked before it indexes anything
  auto& slot = st.shards[note.shard];
  if (note.open) {
    slot.holder = note.node;
    flush_waiting(self, note.shard); // what waited for the lock can go there now
  } else if (slot.holder == note.node) {
    slot.holder.clear();
  }
}

void on_shard_actor_down(router_self* self, std::uint32_t shard, const caf::down_msg& msg) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  if (slot.state == phase::ready) {
    // Something of a shard died unasked: reopen the shard from its file,
    // unless another node took it (fenced): then let it go, and do not
    // take it back before our view of the members is current.
    bool fenced = fenced_by_newer_epoch(self, shard);
    if (fenced)
      slot.hold_until = self->clock().now() + 2 * st.opts.peer_timeout;
    log::write(fenced ? "warn" : "error",
               fenced ? "shard_lost_to_newer_epoch" : "shard_actor_stopped",
               {{"shard", std::to_string(shard)},
                {"actor", msg.source == slot.store ? "store" : "other"},
                {"reason", caf::to_string(msg.reason)}});
    begin_drain(self, slot);
    announce_holding(self, shard, false);
    // The rest stop the way a drain stops them: the directory first.
    if (msg.source != slot.directory)
      self->send_exit(slot.directory, caf::exit_reason::user_shutdown);
  }
  if (slot.state != phase::releasing)
    return;
  if (msg.source == slot.store)
    slot.store = nullptr; // stopped on its own (fenced)
  if (msg.source == slot.directory) {
    slot.directory_stopped = true;
    self->send_exit(slot.index, caf::exit_reason::user_shutdown);
    self->send_exit(slot.accounts, caf::exit_reason::user_shutdown);
  }
  --slot.running;
  // The store goes last: the order index answers the placements it handed
  // to the store before it stops, and a store stopped under them would
  // leave their callers without an answer.
  if (slot.running == 1 && slot.store)
    self->send_exit(slot.store, caf::exit_reason::user_shutdown);
  if (slot.running == 0)
    shard_closed(self, shard);
}

} // namespace emporium::cluster_router
