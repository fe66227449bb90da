// One actor per product's stock record. `reserve` is a single message that
// checks and takes (never two steps); all order-keyed operations are
// idempotent; reservations expire by a timer that survives passivation and
// restarts because the expiry instant is part of the persisted snapshot.
#include "domain/wall_clock.hpp"
#include "actors/entity_actor.hpp"
#include "persistence/snapshot.hpp"

#include <chrono>

namespace emporium {

namespace {

struct stock_actor_state {
  entity_runtime rt;
  stock_state stock;
  product_id product = 0; // the id as a number (the directory checks it is one)
  static inline const char* name = "stock";
  static constexpr entity_kind kind = entity_kind::stock;
  static void adopt(caf::stateful_actor<stock_actor_state>* self,
                    std::optional<persistence::snapshot> found);
  static caf::behavior handlers();
};

using stock_self = caf::stateful_actor<stock_actor_state>;
using stock_actor = entity_actor<stock_actor_state>;

// As a cart (cart_actor.cpp): a resident record costs its actor's size
// class, 1,280 bytes (1,232 with the adjustment ids' vector); a field that
// pushes it past costs every resident record 256 bytes.
static_assert(sizeof(void*) != 8 || sizeof(caf::actor_storage<stock_actor>) <= 1280,
              "a resident stock record outgrew its allocator size class");

stock_view view_of(const stock_state& s) {
  return stock_view{s.on_hand, stock_available(s), stock_reserved(s), s.sold};
}

void arm_expiry(stock_self* self, const reservation& r) {
  auto remaining = std::max<millis>(0, r.expires_at - wall_clock_ms());
  self->delayed_send(self, std::chrono::milliseconds(remaining), atoms::expire::value,
                     r.order, r.expires_at);
}

/// After every change: pin state and the availability the catalog shows.
void publish(stock_self* self) {
  auto& st = self->state;
  // Pinned while a reservation timer runs: a passivated record would miss it.
  update_pin(self, !st.stock.reservations.empty());
  if (st.rt.svc->stock_events)
    self->send(st.rt.svc->stock_events, stock_level{st.product, stock_available(st.stock)});
}

/// Persists the record (and the sale made or given back), publishes the new
/// availability, then answers.
template <class Reply>
caf::result<Reply> changed(stock_self* self, Reply reply,
                           std::optional<persistence::sale_change> sale = {}) {
  publish(self);
  return persist_then_reply(self, persistence::snapshot_of(self->state.stock), std::move(reply),
                            sale);
}

/// Says in the log that a sale went back to stock: `sold` going down needs
/// an explanation for whoever reads the figures.
void log_returned(stock_self* self, order_id order, std::int32_t quantity) {
  log::write(log::level::info, "stock_sale_returned",
             {{"product", std::to_string(self->state.product)},
              {"order", std::to_string(order)},
              {"quantity", std::to_string(quantity)}});
}

/// Asks the store whether this record's sale to `order` is on file (the
/// snapshot remembers only the last settlements); `decide(sold, promise)`
/// answers. A store error is the answer itself.
template <class Reply, class Decide>
caf::result<Reply> ask_file_if_sold(stock_self* self, order_id order, Decide decide) {
  auto& rt = self->state.rt;
  auto rp = self->make_response_promise<Reply>();
  self->request(rt.svc->store, caf::infinite,
                was_sold{static_cast<std::uint8_t>(rt.key.kind), rt.key.id.str(), order})
    .then([rp, decide](bool sold) mutable { decide(sold, rp); },
          [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

/// A release for an order this record neither holds nor remembers: a sale
/// older than the remembered settlements is still given back if on file.
caf::result<bool> release_from_file(stock_self* self, order_id order, std::int32_t quantity) {
  if (!self->state.rt.svc->store)
    return false;
  return ask_file_if_sold<bool>(self, order, [self, order, quantity](bool sold, auto& rp) {
    // Decided on the state as it is now: a repeat handled meanwhile is
    // remembered as returned, so this one finds nothing to return.
    if (!sold ||
        stock_return_sale(self->state.stock, order, quantity, true) != return_status::returned) {
      rp.deliver(false);
      return;
    }
    log_returned(self, order, quantity);
    publish(self);
    persist(
      self, persistence::snapshot_of(self->state.stock), [rp]() mutable { rp.deliver(true); },
      [rp]() mutable { rp.deliver(make_error(errc::storage_failure)); }, {},
      persistence::sale_change{order, true});
  });
}

/// A commit for an order this record holds no reservation for, and that is
/// not among the sales it remembers: a repeat of a commit made long ago
/// (a saga resumed after a crash) is still a success if the sale is on file.
caf::result<stock_view> commit_repeat(stock_self* self, order_id order) {
  if (!self->state.rt.svc->store)
    return make_error(errc::not_found);
  return ask_file_if_sold<stock_view>(self, order, [self](bool sold, auto& rp) {
    if (sold)
      rp.deliver(view_of(self->state.stock));
    else
      rp.deliver(make_error(errc::not_found));
  });
}

/// Takes the loaded snapshot (none = a new record) and re-arms the expiry
/// of every reservation it holds.
void stock_actor_state::adopt(stock_self* self, std::optional<persistence::snapshot> found) {
  self->state.product = std::stoll(self->state.rt.key.id.str());
  if (!found)
    return;
  auto stock = persistence::read_stock(*found);
  if (!stock) {
    self->quit(make_error(errc::storage_failure));
    return;
  }
  self->state.stock = std::move(*stock);
  for (const auto& r : self->state.stock.reservations)
    arm_expiry(self, r);
  update_pin(self, !self->state.stock.reservations.empty());
}

/// The handlers every stock record shares (shared_behavior.hpp).
caf::behavior stock_actor_state::handlers() {
  auto running = [] { return stock_actor::running(); };
  return {
    [running](const reserve_stock& r) -> caf::result<reserve_reply> {
      if (r.quantity <= 0 || r.ttl_ms <= 0)
        return make_error(errc::invalid_argument);
      auto* self = running();
      auto& s = self->state.stock;
      auto expires_at = wall_clock_ms() + r.ttl_ms;
      auto out = stock_reserve(s, r.order, r.quantity, expires_at);
      reserve_reply reply{out.status, out.available};
      if (out.status != reserve_status::granted)
        return reply; // nothing changed: no write
      arm_expiry(self, s.reservations.back());
      return changed(self, reply);
    },
    [running](const release_stock& r) -> caf::result<bool> {
      auto* self = running();
      auto& s = self->state.stock;
      if (stock_release(s, r.order))
        return changed(self, true);
      // No hold: the line may have committed before its order's cancel.
      switch (stock_return_sale(s, r.order, r.quantity)) {
        case return_status::returned:
          log_returned(self, r.order, r.quantity);
          return changed(self, true, persistence::sale_change{r.order, true});
        case return_status::unknown:
          return release_from_file(self, r.order, r.quantity);
        default:
          return false;
      }
    },
    [running](const commit_stock& r) -> caf::result<stock_view> {
      auto* self = running();
      auto order = r.order;
      auto& s = self->state.stock;
      bool held = std::any_of(s.reservations.begin(), s.reservations.end(),
                              [order](const reservation& r) { return r.order == order; });
      if (auto ec = stock_commit(s, order); ec == errc::not_found)
        return commit_repeat(self, order);
      else if (ec != errc::none)
        return make_error(ec);
      if (!held)
        return view_of(s); // committed before: idempotent repeat
      return changed(self, view_of(s), persistence::sale_change{order, false, wall_clock_ms()});
    },
    [running](atoms::expire, order_id order, millis expires_at) {
      auto* self = running();
      if (stock_expire(self->state.stock, order, expires_at)) {
        publish(self);
        persist_unanswered(self, persistence::snapshot_of(self->state.stock));
      }
    },
    [running](const set_stock& r) -> caf::result<stock_view> {
      auto* self = running();
      if (auto ec = stock_set_on_hand(self->state.stock, r.on_hand); ec != errc::none)
        return make_error(ec);
      return changed(self, view_of(self->state.stock));
    },
    [running](const adjust_stock& r) -> caf::result<stock_view> {
      auto* self = running();
      auto& s = self->state.stock;
      if (auto ec = stock_adjust(s, r.delta, r.op); ec != errc::none)
        return make_error(ec);
      // Applied now or before (a resend, a retry): either way the answer
      // waits for the record on file, as a cart's repeated op does (the
      // first write of that id may still be in flight).
      return changed(self, view_of(s));
    },
    [running](const get_stock&) { return view_of(running()->state.stock); },
    [running](atoms::passivate) { passivate_when_idle(running()); },
  };
}

} // namespace

caf::actor spawn_stock(caf::actor_system& sys, shared_text product, shared_services svc,
                       entity_start start) {
  return spawn_entity<stock_actor_state>(sys, std::move(product), std::move(svc), start);
}

} // namespace emporium
