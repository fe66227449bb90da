// One actor per user's cart. Applies cart_rules, persists the new snapshot,
// and answers the whole cart once the change is durable.
#include "actors/entity_runtime.hpp"
#include "persistence/snapshot.hpp"

namespace emporium {

namespace {

struct cart_actor_state {
  entity_runtime rt;
  cart_state cart;
  static inline const char* name = "cart";
};

using cart_self = caf::stateful_actor<cart_actor_state>;

cart_view view_of(const cart_state& cart) {
  return cart_view{cart.lines, cart_total(cart)};
}

/// Applies `rule` to the cart once per operation id: persists the cart
/// after a successful rule (recording `op`), or answers the rule's error.
/// An op already applied answers the cart as it is; it is written again
/// first, so the answer still waits for a durable cart (the first write of
/// that op may still be in flight).
template <class Rule>
caf::result<cart_view> apply_once(cart_self* self, cart_op op, Rule rule) {
  auto& cart = self->state.cart;
  if (!cart_applied(cart, op)) {
    if (auto outcome = rule(cart); outcome != errc::none)
      return make_error(outcome);
    cart_record(cart, op);
  }
  return persist_then_reply(self, persistence::snapshot_of(cart), view_of(cart));
}

caf::behavior cart_actor(cart_self* self, std::string user, entity_services svc) {
  self->state.rt = entity_runtime{entity_key{entity_kind::cart, std::move(user)}, svc};
  crash_on_exception(self);
  load_snapshot(self, [self](std::optional<persistence::snapshot> found) {
    if (!found)
      return;
    if (auto cart = persistence::read_cart(*found))
      self->state.cart = std::move(*cart);
    else
      self->quit(make_error(errc::storage_failure));
  });
  return {
    [self](const add_to_cart& r) {
      return apply_once(self, r.op, [&](cart_state& cart) {
        return cart_add(cart, r.product, r.quantity, r.unit_price, r.name, r.limit);
      });
    },
    [self](const set_cart_line& r) {
      return apply_once(self, r.op, [&](cart_state& cart) {
        return cart_set(cart, r.product, r.quantity, r.unit_price, r.name, r.limit);
      });
    },
    [self](const remove_from_cart& r) {
      return apply_once(self, r.op,
                        [&](cart_state& cart) { return cart_remove(cart, r.product); });
    },
    [self](const clear_cart& r) {
      return apply_once(self, r.op, [](cart_state& cart) {
        cart.lines.clear();
        return errc::none;
      });
    },
    [self](const get_cart&) { return view_of(self->state.cart); },
    [self](const take_for_order& r) -> caf::result<bool> {
      if (!cart_take_for_order(self->state.cart, r.order, r.lines))
        return false;
      // Written again when taken before: the first write may be in flight.
      return persist_then_reply(self, persistence::snapshot_of(self->state.cart), true);
    },
    [self](const give_back_for_order& r) {
      cart_give_back(self->state.cart, r.order, r.lines);
      return persist_then_reply(self, persistence::snapshot_of(self->state.cart),
                                view_of(self->state.cart));
    },
    [self](atoms::passivate) { passivate_when_idle(self); },
  };
}

} // namespace

caf::actor spawn_cart(caf::actor_system& sys, const std::string& user,
                      const entity_services& svc) {
  // lazy_init: the actor is first scheduled by its first message, which
  // saves a scheduling round per activation.
  return sys.spawn<caf::lazy_init>(cart_actor, user, svc);
}

} // namespace emporium
