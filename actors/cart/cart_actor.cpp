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

/// Persists the cart after a successful rule, or answers the rule's error.
caf::result<cart_view> finish(cart_self* self, errc outcome) {
  if (outcome != errc::none)
    return make_error(outcome);
  const auto& cart = self->state.cart;
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
      return finish(self, cart_add(self->state.cart, r.product, r.quantity, r.unit_price, r.name,
                                   r.limit));
    },
    [self](const set_cart_line& r) {
      return finish(self, cart_set(self->state.cart, r.product, r.quantity, r.unit_price, r.name,
                                   r.limit));
    },
    [self](const remove_from_cart& r) {
      return finish(self, cart_remove(self->state.cart, r.product));
    },
    [self](const clear_cart&) {
      self->state.cart.lines.clear();
      return finish(self, errc::none);
    },
    [self](const get_cart&) { return view_of(self->state.cart); },
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
