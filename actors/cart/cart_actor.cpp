// One actor per user's cart. Applies cart_rules, persists the new snapshot,
// and answers the whole cart once the change is durable.
#include "actors/entity_actor.hpp"
#include "persistence/snapshot.hpp"

namespace emporium {

namespace {

struct cart_actor_state {
  entity_runtime rt;
  cart_state cart;
  static inline const char* name = "cart";
  static constexpr entity_kind kind = entity_kind::cart;
  static void adopt(caf::stateful_actor<cart_actor_state>* self,
                    std::optional<persistence::snapshot> found);
  static caf::behavior handlers();
};

using cart_self = caf::stateful_actor<cart_actor_state>;
using cart_actor = entity_actor<cart_actor_state>;

// A resident cart costs its actor's allocation, rounded up to the
// allocator's size class: jemalloc's classes here are 1,024, 1,280, 1,536.
// CAF's actor alone takes ~1,090 bytes, so the cart's state (with three
// lines inline, see cart_lines) fits in 1,280; a field that pushes the
// actor past it costs every resident cart 256 bytes.
static_assert(sizeof(void*) != 8 || sizeof(caf::actor_storage<cart_actor>) <= 1280,
              "a resident cart outgrew its allocator size class");

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

void cart_actor_state::adopt(cart_self* self, std::optional<persistence::snapshot> found) {
  if (!found)
    return;
  if (auto cart = persistence::read_cart(*found))
    self->state.cart = std::move(*cart);
  else
    self->quit(make_error(errc::storage_failure));
}

/// The handlers every cart shares (shared_behavior.hpp).
caf::behavior cart_actor_state::handlers() {
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

caf::actor spawn_cart(caf::actor_system& sys, shared_text user, shared_services svc,
                      entity_start start) {
  return spawn_entity<cart_actor_state>(sys, std::move(user), std::move(svc), start);
}

} // namespace emporium
