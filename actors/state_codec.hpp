// Snapshot encoding of entity state (JSON text in the entities table).
// Kept beside the actors: persistence stores opaque text.
#pragma once

#include "domain/cart_rules.hpp"
#include "domain/order_rules.hpp"
#include "domain/stock_rules.hpp"

#include <optional>
#include <string>

namespace emporium {

std::string encode(const cart_state& cart);
std::string encode(const stock_state& stock);
std::string encode(const order_state& order);

/// The payload of the `order.status` event an order publishes in its state
/// at `at` (the outbox adds `seq` when it is read).
std::string order_event_payload(const order_state& order, millis at);

/// nullopt when the text is not a valid snapshot (the entity then refuses to
/// start rather than serve an empty cart in place of a real one).
std::optional<cart_state> decode_cart(const std::string& text);
std::optional<stock_state> decode_stock(const std::string& text);
std::optional<order_state> decode_order(const std::string& text);

} // namespace emporium
