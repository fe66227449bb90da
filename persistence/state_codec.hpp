// Snapshot encoding of entity state (JSON text in the entities table) and
// of outbox events. Private to persistence (and its tests and fuzzers):
// entities hold opaque snapshots (snapshot.hpp), made and read on their own
// threads; the key names are in snapshot_keys.def.
#pragma once

#include "domain/cart_rules.hpp"
#include "domain/order_event.hpp"
#include "domain/order_rules.hpp"
#include "domain/stock_rules.hpp"

#include <optional>
#include <string>

namespace emporium {

std::string encode(const cart_state& cart);
std::string encode(const stock_state& stock);
std::string encode(const order_state& order);

/// An event as the outbox keeps it: the JSON clients receive, without `seq`.
std::string encode(const order_event& event);
/// An outbox row back to its event; nullopt when the payload is not one.
std::optional<order_event> decode_event(const std::string& payload, std::string user,
                                        order_id order, std::int64_t seq);

/// nullopt when the text is not a valid snapshot (the entity then refuses to
/// start rather than serve an empty cart in place of a real one).
std::optional<cart_state> decode_cart(const std::string& text);
std::optional<stock_state> decode_stock(const std::string& text);
std::optional<order_state> decode_order(const std::string& text);

} // namespace emporium
