// Maps an entity kind to the actor that embodies it (the directory's factory).
#include "actors/entity_services.hpp"
#include "actors/protocol.hpp"

#include <caf/all.hpp>

#include <charconv>

namespace emporium {

bool is_valid_key(const entity_key& key) {
  if (key.id.empty() || key.id.size() > 128)
    return false;
  switch (key.kind) {
    case entity_kind::cart: return true;
    case entity_kind::stock:
    case entity_kind::order: {
      product_id value = 0;
      auto [end, ec] = std::from_chars(key.id.data(), key.id.data() + key.id.size(), value);
      return ec == std::errc{} && end == key.id.data() + key.id.size() && value > 0;
    }
  }
  return false;
}

caf::actor spawn_entity(caf::actor_system& sys, const entity_ref& key,
                        const shared_services& svc, const caf::message& first) {
  // No first message: a restart (or a passivated entity coming back for
  // the messages that waited); started at once, so that its timers and
  // steps run whether or not a message waits.
  auto when = first.empty() ? entity_start::now : entity_start::on_first_message;
  switch (key.kind) {
    case entity_kind::cart: return spawn_cart(sys, key.id, svc, when);
    case entity_kind::stock: return spawn_stock(sys, key.id, svc, when);
    case entity_kind::order:
      if (first.match_elements<start_order>() && first.get_as<start_order>(0).placed.id != 0) {
        const auto& start = first.get_as<start_order>(0);
        return spawn_order(sys, key.id, svc, start.placed, start.trace);
      }
      return spawn_order(sys, key.id, svc, {}, {}, when);
  }
  return {};
}

} // namespace emporium
