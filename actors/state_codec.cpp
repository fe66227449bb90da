// Snapshot encoding (see state_codec.hpp). Short keys: snapshots are written
// on every acknowledged change, so their size is write bandwidth.
#include "actors/state_codec.hpp"

#include <nlohmann/json.hpp>

namespace emporium {

using nlohmann::json;

std::string encode(const cart_state& cart) {
  json lines = json::array();
  for (const auto& l : cart.lines)
    lines.push_back({l.product, l.quantity, l.unit_price, l.name});
  return json{{"v", 1}, {"l", std::move(lines)}}.dump();
}

std::string encode(const stock_state& stock) {
  json res = json::array();
  for (const auto& r : stock.reservations)
    res.push_back({r.order, r.quantity, r.expires_at});
  json settled = json::array();
  for (const auto& s : stock.settled)
    settled.push_back({s.order, static_cast<int>(s.how)});
  return json{{"v", 1}, {"h", stock.on_hand}, {"s", stock.sold}, {"r", std::move(res)},
              {"d", std::move(settled)}}
    .dump();
}

std::optional<cart_state> decode_cart(const std::string& text) {
  try {
    auto j = json::parse(text);
    cart_state cart;
    for (const auto& l : j.at("l"))
      cart.lines.push_back(cart_line{l.at(0).get<product_id>(), l.at(1).get<std::int32_t>(),
                                     l.at(2).get<cents>(), l.at(3).get<std::string>()});
    return cart;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<stock_state> decode_stock(const std::string& text) {
  try {
    auto j = json::parse(text);
    stock_state s;
    s.on_hand = j.at("h").get<std::int64_t>();
    s.sold = j.at("s").get<std::int64_t>();
    for (const auto& r : j.at("r"))
      s.reservations.push_back(reservation{r.at(0).get<order_id>(),
                                           r.at(1).get<std::int32_t>(), r.at(2).get<millis>()});
    for (const auto& d : j.at("d"))
      s.settled.push_back(
        settled_order{d.at(0).get<order_id>(), static_cast<settlement>(d.at(1).get<int>())});
    return s;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string encode(const order_state& o) {
  json lines = json::array();
  for (const auto& l : o.lines)
    lines.push_back({l.product, l.quantity, l.unit_price, l.name});
  json timeline = json::array();
  for (const auto& t : o.timeline)
    timeline.push_back({static_cast<int>(t.status), t.reason, t.at});
  // "s" (status number) and "c" (compensated) are read by SQL at start-up
  // (order_store::unfinished): keep their names.
  return json{{"v", 1},           {"id", o.id},         {"u", o.user},
              {"l", lines},       {"t", o.total},       {"pm", o.payment_method},
              {"s", static_cast<int>(o.status)},        {"r", o.reason},
              {"p", o.payment_id}, {"at", o.placed_at}, {"dl", o.payment_deadline},
              {"c", o.compensated ? 1 : 0},             {"tl", timeline}}
    .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<order_state> decode_order(const std::string& text) {
  try {
    auto j = json::parse(text);
    order_state o;
    o.id = j.at("id").get<order_id>();
    o.user = j.at("u").get<std::string>();
    for (const auto& l : j.at("l"))
      o.lines.push_back(order_line{l.at(0).get<product_id>(), l.at(1).get<std::int32_t>(),
                                   l.at(2).get<cents>(), l.at(3).get<std::string>()});
    o.total = j.at("t").get<cents>();
    o.payment_method = j.at("pm").get<std::string>();
    o.status = static_cast<order_status>(j.at("s").get<int>());
    o.reason = j.at("r").get<std::string>();
    o.payment_id = j.at("p").get<std::string>();
    o.placed_at = j.at("at").get<millis>();
    o.payment_deadline = j.at("dl").get<millis>();
    o.compensated = j.at("c").get<int>() != 0;
    for (const auto& t : j.at("tl"))
      o.timeline.push_back(timeline_entry{static_cast<order_status>(t.at(0).get<int>()),
                                          t.at(1).get<std::string>(), t.at(2).get<millis>()});
    return o;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

} // namespace emporium
