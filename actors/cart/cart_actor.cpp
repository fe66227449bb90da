// One actor per user's cart. Applies cart_rules, persists the new snapshot,
// and answers the whole cart once the change is durable.
#include "actors/entity_runtime.hpp"
#include "actors/shared_behavior.hpp"
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

/// The handlers every cart shares (shared_behavior.hpp).
caf::behavior cart_handlers();

class cart_actor final : public shared_behavior_actor<cart_actor_state> {
public:
  cart_actor(caf::actor_config& cfg, std::string user, const entity_services& svc)
    : shared_behavior_actor(cfg) {
    state.rt = entity_runtime{entity_key{entity_kind::cart, std::move(user)}, svc};
  }

  caf::behavior make_behavior() override {
    crash_on_exception<cart_actor_state>(this);
    load_snapshot<cart_actor_state>(this, [self = this](std::optional<persistence::snapshot> found) {
      if (!found)
        return;
      if (auto cart = persistence::read_cart(*found))
        self->state.cart = std::move(*cart);
      else
        self->quit(make_error(errc::storage_failure));
    });
    static const caf::behavior handlers = cart_handlers();
    return handlers;
  }
};

caf::behavior cart_handlers() {
  auto self = [] { return cart_actor::running(); };
  return {
    [self](const add_to_cart& r) {
      return apply_once(self(), r.op, [&](cart_state& cart) {
        return cart_add(cart, r.product, r.quantity, r.unit_price, r.name, r.limit);
      });
    },
    [self](const set_cart_line& r) {
      return apply_once(self(), r.op, [&](cart_state& cart) {
        return cart_set(cart, r.product, r.quantity, r.unit_price, r.name, r.limit);
      });
    },
    [self](const remove_from_cart& r) {
      return apply_once(self(), r.op,
                        [&](cart_state& cart) { return cart_remove(cart, r.product); });
    },
    [self](const clear_cart& r) {
      return apply_once(self(), r.op, [](cart_state& cart) {
        cart.lines.clear();
        return errc::none;
      });
    },
    [self](const get_cart&) { return view_of(self()->state.cart); },
    [self](const take_for_order& r) -> caf::result<bool> {
      auto* cart = self();
      if (!cart_take_for_order(cart->state.cart, r.order, r.lines))
        return false;
      // Written again when taken before: the first write may be in flight.
      return persist_then_reply(cart, persistence::snapshot_of(cart->state.cart), true);
    },
    [self](const give_back_for_order& r) {
      auto* cart = self();
      cart_give_back(cart->state.cart, r.order, r.lines);
      return persist_then_reply(cart, persistence::snapshot_of(cart->state.cart),
                                view_of(cart->state.cart));
    },
    [self](atoms::passivate) { passivate_when_idle(self()); },
  };
}

} // namespace

caf::actor spawn_cart(caf::actor_system& sys, const std::string& user,
                      const entity_services& svc) {
  // lazy_init: the actor is first scheduled by its first message, which
  // saves a scheduling round per activation.
  return sys.spawn<cart_actor, caf::lazy_init>(user, svc);
}

} // namespace emporium
