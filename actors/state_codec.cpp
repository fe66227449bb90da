// Snapshot encoding (see state_codec.hpp). Short keys: snapshots are written
// on every acknowledged change, so their size is write bandwidth.
#include "actors/state_codec.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <string_view>

namespace emporium {

using nlohmann::json;

namespace {

/// Length of the valid UTF-8 sequence at `s[i]` (RFC 3629 ranges: no
/// overlongs, no surrogates), 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto c = at(i);
  auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    auto lo = c == 0xE0 ? 0xA0u : 0x80u;
    auto hi = c == 0xED ? 0x9Fu : 0xBFu;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    auto lo = c == 0xF0 ? 0x90u : 0x80u;
    auto hi = c == 0xF4 ? 0x8Fu : 0xBFu;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/// Writes JSON text directly. Snapshots are encoded on every acknowledged
/// change; building a nlohmann DOM first and dumping it was ~6% of the
/// node's CPU under order load. Decoding still parses with nlohmann.
class json_text {
public:
  json_text& raw(std::string_view s) {
    out_ += s;
    return *this;
  }
  json_text& num(std::int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
    return *this;
  }
  /// A quoted string; invalid UTF-8 becomes U+FFFD, as nlohmann's
  /// `error_handler_t::replace` did.
  json_text& str(std::string_view s) {
    out_ += '"';
    for (std::size_t i = 0; i < s.size();) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80) {
        if (auto n = utf8_sequence(s, i); n > 0) {
          out_.append(s.substr(i, n));
          i += n;
        } else {
          out_ += "\\ufffd";
          ++i;
        }
        continue;
      }
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += static_cast<char>(c);
          }
      }
      ++i;
    }
    out_ += '"';
    return *this;
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

} // namespace

std::string encode(const cart_state& cart) {
  json_text j;
  j.raw(R"({"v":1,"l":[)");
  for (std::size_t i = 0; i < cart.lines.size(); ++i) {
    const auto& l = cart.lines[i];
    j.raw(i == 0 ? "[" : ",[").num(l.product).raw(",").num(l.quantity).raw(",");
    j.num(l.unit_price).raw(",").str(l.name).raw("]");
  }
  return j.raw("]}").take();
}

std::string encode(const stock_state& stock) {
  json_text j;
  j.raw(R"({"v":1,"h":)").num(stock.on_hand).raw(R"(,"s":)").num(stock.sold).raw(R"(,"r":[)");
  for (std::size_t i = 0; i < stock.reservations.size(); ++i) {
    const auto& r = stock.reservations[i];
    j.raw(i == 0 ? "[" : ",[").num(r.order).raw(",").num(r.quantity).raw(",");
    j.num(r.expires_at).raw("]");
  }
  j.raw(R"(],"d":[)");
  for (std::size_t i = 0; i < stock.settled.size(); ++i) {
    const auto& d = stock.settled[i];
    j.raw(i == 0 ? "[" : ",[").num(d.order).raw(",").num(static_cast<int>(d.how)).raw("]");
  }
  return j.raw("]}").take();
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
  // "s" (status number) and "c" (compensated) are read by SQL at start-up
  // (order_store::unfinished): keep their names.
  json_text j;
  j.raw(R"({"v":1,"id":)").num(o.id).raw(R"(,"u":)").str(o.user).raw(R"(,"l":[)");
  for (std::size_t i = 0; i < o.lines.size(); ++i) {
    const auto& l = o.lines[i];
    j.raw(i == 0 ? "[" : ",[").num(l.product).raw(",").num(l.quantity).raw(",");
    j.num(l.unit_price).raw(",").str(l.name).raw("]");
  }
  j.raw(R"(],"t":)").num(o.total).raw(R"(,"pm":)").str(o.payment_method);
  j.raw(R"(,"s":)").num(static_cast<int>(o.status)).raw(R"(,"r":)").str(o.reason);
  j.raw(R"(,"p":)").str(o.payment_id).raw(R"(,"at":)").num(o.placed_at);
  j.raw(R"(,"dl":)").num(o.payment_deadline).raw(R"(,"c":)").num(o.compensated ? 1 : 0);
  j.raw(R"(,"tl":[)");
  for (std::size_t i = 0; i < o.timeline.size(); ++i) {
    const auto& t = o.timeline[i];
    j.raw(i == 0 ? "[" : ",[").num(static_cast<int>(t.status)).raw(",").str(t.reason);
    j.raw(",").num(t.at).raw("]");
  }
  return j.raw("]}").take();
}

std::string order_event_payload(const order_state& o, millis at) {
  return json{{"type", "order.status"},      {"orderId", o.id},
              {"status", status_name(o.status)}, {"reason", o.reason},
              {"at", at},                    {"totalAmount", cents_to_decimal(o.total)}}
    .dump();
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
