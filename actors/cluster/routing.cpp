// Where a message for a shard goes: into the shard here when it is ready,
// to the owner's router, or into the shard's bounded buffer while it
// changes hands (see router_state.hpp).
#include "actors/cluster/router_state.hpp"

#include "actors/node_metrics.hpp"
#include "actors/accounts/accounts_interface.hpp"
#include "actors/cart/cart_interface.hpp"
#include "actors/order/order_index_interface.hpp"
#include "actors/order/order_interface.hpp"
#include "actors/stock/stock_interface.hpp"
#include "domain/shard_map.hpp"
#include "support/random_hex.hpp"

namespace emporium::cluster_router {

namespace {

/// Hands a message to its addressee inside a shard this node runs.
template <class Sender>
void hand_in(Sender& via, shard_slot& slot, target& where, caf::message& payload) {
  switch (where.to) {
    case service::entity:
      via.delegate(slot.directory, std::move(where.key), std::move(payload));
      return;
    // The payload is the caller's typed request, checked where it was made.
    case service::index:
      via.delegate(caf::actor_cast<caf::actor>(slot.index), std::move(payload));
      return;
    case service::accounts:
      via.delegate(caf::actor_cast<caf::actor>(slot.accounts), std::move(payload));
      return;
  }
}

void deliver_parked(router_self* self, parked p);
bool safe_to_resend(const caf::message& m);

/// The trace context inside a request of the order path, or nullptr.
trace::context* trace_in(caf::message& m) {
  trace::context* found = nullptr;
  auto look = [&](auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    if (!found && m.match_elements<T>())
      found = &m.get_mutable_as<T>(0).trace;
  };
  look(static_cast<place_order*>(nullptr));
  look(static_cast<start_order*>(nullptr));
  look(static_cast<reserve_stock*>(nullptr));
  look(static_cast<commit_stock*>(nullptr));
  look(static_cast<release_stock*>(nullptr));
  return found;
}

/// A traced request leaving for another node: the hop is a span of its
/// own, and the work on the other node continues from it.
void trace_hop(caf::message& payload, const std::string& to, std::uint32_t shard) {
  if (!trace::recording())
    return;
  auto* ctx = trace_in(payload);
  if (!ctx || !ctx->valid())
    return;
  auto hop = trace::child_of(*ctx);
  trace::record(hop, ctx->span, "cluster.forward", trace::span_kind::producer, trace::now_ns(),
                {{"peer.node", to}, {"emporium.shard", std::to_string(shard)}});
  ctx->span = hop.span;
}

/// A placement without an Idempotency-Key (the seed's web client sends
/// none) that leaves for another node gets a key of its own, 128 random
/// bits, before it goes. If that node dies before answering, the resend
/// (safe_to_resend) finds the order it may have placed, by that key, at the
/// shard's new owner instead of placing a second. The key is stored with
/// the order like a buyer's own and forgotten after the same retention; a
/// placement within the node needs none (nothing resends it).
void key_keyless_placement(caf::message& payload) {
  if (!payload.match_elements<place_order>())
    return;
  const auto& req = payload.get_as<place_order>(0);
  if (req.idempotency_key.empty() && !req.lookup_only)
    payload.get_mutable_as<place_order>(0).idempotency_key = "relayed-" + random_hex(16);
}

/// Longer than any caller waits (the edge gives up after 5 s): an answer
/// that comes later has nobody to go to.
constexpr auto relay_timeout = std::chrono::seconds(10);

/// Sends `msg` (the forward of `p`) to the peer `name` and passes whatever
/// comes back, answer or error, to `p`'s caller. Until then `p` is kept in
/// `relays`: if the peer dies first, resend_relayed takes it from there,
/// and an answer that still arrives later finds nothing and is dropped.
/// CAF 0.17's response handlers match by type and have no catch-all: an
/// answer that matches no handler arrives as `sec::unexpected_response`
/// whose context is the answer itself, which is how an answer of any type
/// is passed on untouched.
void relay(router_self* self, const std::string& name, const caf::actor& to, parked p,
           caf::message msg) {
  auto& st = self->state;
  auto id = st.next_relay++;
  st.relays.emplace(id, relayed{name, std::move(p)});
  self->request(to, relay_timeout, std::move(msg)).then([self, id](caf::error& err) {
    auto it = self->state.relays.find(id);
    if (it == self->state.relays.end())
      return; // its peer died first: sent again or answered then
    if (err == caf::sec::request_receiver_down && safe_to_resend(it->second.request.payload)) {
      // The peer's router ended before it took the request in: a node that
      // leaves quits once drained, and what we sent before we read its
      // "leaving" bounces. It goes again wherever its shard is now, as a
      // request relayed to a node that died does (resend_relayed), and for
      // the same kinds of request only, in case a bounce ever follows work
      // done (the hop limit bounds the tries while the peer still counts
      // as live).
      auto again = std::move(it->second.request);
      self->state.relays.erase(it);
      node_metrics::get().resent->inc();
      deliver_parked(self, std::move(again));
      if (self->state.stopping)
        quit_when_done(self);
      return;
    }
    auto rp = std::move(it->second.request.promise);
    self->state.relays.erase(it);
    if (err == caf::sec::unexpected_response)
      rp.deliver(std::move(err.context()));
    else
      rp.deliver(std::move(err));
    if (self->state.stopping)
      quit_when_done(self);
  });
}

/// Whether a request may be sent again when the node it was forwarded to
/// died before answering, so it may have been carried out there: reads,
/// changes that say what to become (a stock level), changes that carry an
/// id their entity applies once (cart operations, orders placed with an
/// Idempotency-Key: every placement relayed has one, see
/// key_keyless_placement), registrations (the account answers the same sign-up
/// again, see register_account), refresh tokens stored or rotated (the
/// same token hash stored again does nothing; the same rotation answers as
/// the first time, see account_store::rotate_refresh), changes that say
/// what to become (an order cancelled, an account made admin, a user's
/// tokens revoked), payment notices (a saga applies each event id once),
/// and the saga's steps, which stock records, carts and sagas apply once
/// per order. A stock adjustment adds a delta: only one with an operation id
/// (the record applies it once; the edge gives every adjustment one).
template <class... Ts>
bool holds_one_of(const caf::message& m) {
  return (m.match_elements<Ts>() || ...);
}

/// A cart change with an operation id (the cart applies it once).
template <class... Changes>
bool cart_change_with_op(const caf::message& m) {
  return ((m.match_elements<Changes>() && m.get_as<Changes>(0).op != 0) || ...);
}

/// The accounts actors' counts of login and registration attempts: kept in
/// the owner's memory only, so a count made by a node that then died went
/// with it, and the resend counts once at the shard's new owner.
bool attempt_count(const caf::message& m) {
  return holds_one_of<begin_login, end_login, admit_login_from, end_login_from,
                      admit_registration>(m);
}

bool safe_to_resend(const caf::message& m) {
  if (m.match_elements<place_order>())
    return !m.get_as<place_order>(0).idempotency_key.empty();
  if (m.match_elements<adjust_stock>())
    return m.get_as<adjust_stock>(0).op != 0;
  return cart_change_with_op<add_to_cart, set_cart_line, remove_from_cart, clear_cart>(m) ||
         holds_one_of<get_cart, take_for_order, give_back_for_order, get_stock, set_stock,
                      reserve_stock, commit_stock, release_stock, start_order, get_order,
                      order_history, find_order, events_after, unfinished_orders,
                      find_account_by_email, find_account_by_id, register_account,
                      cancel_order, check_order_payment, payment_notice, promote_account,
                      store_refresh_token, rotate_refresh_token, revoke_refresh_tokens>(m) ||
         attempt_count(m);
}

void park(router_self* self, parked p) {
  auto& slot = self->state.shards[p.where.shard];
  if (slot.waiting.size() >= self->state.opts.max_parked) {
    p.promise.deliver(make_error(errc::unavailable));
    return;
  }
  slot.waiting.push_back(std::move(p));
  node_metrics::get().parked->add(1);
}

/// Sends `p` on: into a local shard that is ready, to the router that has
/// the shard open (it may not be the owner by our view while views
/// diverge), to the owner's router, or into the shard's buffer. The promise
/// keeps the original caller, so the answer goes straight back to it.
void deliver_parked(router_self* self, parked p) {
  auto& st = self->state;
  auto& slot = st.shards[p.where.shard];
  if (slot.owner.empty()) {
    p.promise.deliver(make_error(errc::unavailable));
    return;
  }
  if (slot.state == phase::ready) { // ours, or ours until its owner asks
    hand_in(p.promise, slot, p.where, p.payload);
    return;
  }
  auto it = st.peers.find(slot.holder);
  if (it == st.peers.end() && slot.owner != st.opts.node_name)
    it = st.peers.find(slot.owner);
  // Ours by our view, but another node still has the lock and we do not
  // know which: it may be one we have not met yet (a restarted node that
  // reached one peer and not the other). A peer may know it: the first hop
  // goes there instead of waiting for the lock; it comes back to wait here
  // if the peer knows no better (the hop limit bounds the trip).
  if (it == st.peers.end() && slot.owner == st.opts.node_name &&
      slot.state == phase::acquiring && p.hops == 0 && !st.peers.empty())
    it = st.peers.begin();
  if (it == st.peers.end() || p.hops >= max_hops)
    return park(self, std::move(p)); // ours soon, or views disagree: wait
  auto hops = static_cast<std::uint8_t>(p.hops + 1);
  node_metrics::get().forwarded->inc();
  key_keyless_placement(p.payload);
  trace_hop(p.payload, it->first, p.where.shard);
  // The answer comes back through here, over the connection that carried
  // the request, rather than straight to the caller: the node that answers
  // may not reach the caller's node (views diverge while a node rejoins,
  // and its dials to one peer may be cut again and again), and a request
  // whose node dies before answering is sent again (resend_relayed).
  auto msg = p.where.to == service::entity
               ? caf::make_message(atoms::forward::value, hops, p.where.key, p.payload)
               : caf::make_message(atoms::forward::value, hops, p.where.shard,
                                   static_cast<std::uint8_t>(p.where.to), p.payload);
  auto to = it->second.handle;
  // A node that is leaving hands what still reaches it to the new owners
  // and lets them answer the caller (whose node is one of them, or talks
  // to them): it is about to go, and nothing would resend its relays.
  if (st.stopping) {
    p.promise.delegate(to, std::move(msg));
    return;
  }
  relay(self, it->first, to, std::move(p), std::move(msg));
}

} // namespace

/// The router alone decides which shard a key lives in.
target target_of(const entity_key& key, std::uint32_t shards) {
  switch (key.kind) {
    case entity_kind::cart: return {cluster::shard_of_user(key.id, shards), service::entity, key};
    case entity_kind::stock:
      return {cluster::shard_of_product(key.id, shards), service::entity, key};
    case entity_kind::order:
      return {cluster::shard_of_order(key.id, shards), service::entity, key};
  }
  return {0, service::entity, key};
}

} // namespace emporium::cluster_router

namespace emporium {

std::uint32_t shard_of(const entity_key& key, std::uint32_t shards) {
  return cluster_router::target_of(key, shards).shard;
}

} // namespace emporium

namespace emporium::cluster_router {

std::uint32_t shard_for(const shard_key& key, std::uint32_t shards) {
  switch (key.what) {
    case shard_key::by::user: return cluster::shard_of_user(key.id, shards);
    case shard_key::by::email: return cluster::shard_of_email(key.id, shards);
    case shard_key::by::order: return cluster::shard_of_order(std::string_view{key.id}, shards);
    case shard_key::by::address: return cluster::shard_of_address(key.id, shards);
  }
  return 0;
}

/// The hot path: a shard open here gets the message without a promise.
void route(router_self* self, std::uint8_t hops, target where, caf::message& payload) {
  auto& st = self->state;
  auto& slot = st.shards[where.shard];
  if (!st.stopping && slot.state == phase::ready && !slot.owner.empty()) {
    hand_in(*self, slot, where, payload);
    return;
  }
  deliver_parked(self, parked{hops, std::move(where), std::move(payload),
                              self->make_response_promise()});
}

void flush_waiting(router_self* self, std::uint32_t shard) {
  auto waiting = std::move(self->state.shards[shard].waiting);
  self->state.shards[shard].waiting.clear();
  node_metrics::get().parked->add(-static_cast<double>(waiting.size()));
  for (auto& p : waiting)
    deliver_parked(self, std::move(p));
}

void resend_relayed(router_self* self, const std::string& peer) {
  auto& relays = self->state.relays;
  std::vector<parked> again;
  for (auto it = relays.begin(); it != relays.end();) {
    if (it->second.peer == peer) {
      again.push_back(std::move(it->second.request));
      it = relays.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& p : again) {
    if (!safe_to_resend(p.payload)) {
      p.promise.deliver(make_error(errc::unavailable)); // now, not at the caller's timeout
      continue;
    }
    node_metrics::get().resent->inc();
    p.hops = 0; // a fresh trip: the views have changed
    deliver_parked(self, std::move(p));
  }
}

/// Messages parked because views disagreed (hop limit reached) get another
/// try with a fresh hop budget: the views may agree by now.
void retry_parked(router_self* self) {
  for (std::uint32_t s = 0; s < self->state.opts.shards; ++s) {
    auto& slot = self->state.shards[s];
    if (slot.waiting.empty() || slot.owner == self->state.opts.node_name)
      continue;
    for (auto& p : slot.waiting)
      p.hops = 0;
    flush_waiting(self, s);
  }
}

} // namespace emporium::cluster_router
