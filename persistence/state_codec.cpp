// Snapshot encoding (see state_codec.hpp). The keys come from
// snapshot_keys.def, the one table the SQL and the test harness read too.
#include "persistence/state_codec.hpp"

#include "persistence/snapshot_keys.hpp"

#include "support/json_field.hpp"

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
  /// `"key":`, after a comma unless it is the object's first member.
  json_text& key(std::string_view k, bool first = false) {
    if (!first)
      out_ += ',';
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return *this;
  }
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

namespace keys = persistence::snapshot_keys;

std::string encode(const cart_state& cart) {
  json_text j;
  j.raw("{").key(keys::any::version, true).num(1).key(keys::cart::lines).raw("[");
  for (std::size_t i = 0; i < cart.lines.size(); ++i) {
    const auto& l = cart.lines[i];
    j.raw(i == 0 ? "[" : ",[").num(l.product).raw(",").num(l.quantity).raw(",");
    j.num(l.unit_price).raw(",").str(l.name).raw("]");
  }
  j.raw("]");
  if (!cart.ops.empty()) { // written by the edge's changes; absent in older rows
    j.key(keys::cart::ops).raw("[");
    for (std::size_t i = 0; i < cart.ops.size(); ++i)
      j.raw(i == 0 ? "" : ",").num(cart.ops[i]);
    j.raw("]");
  }
  return j.raw("}").take();
}

std::string encode(const stock_state& stock) {
  json_text j;
  j.raw("{").key(keys::any::version, true).num(1);
  j.key(keys::stock::on_hand).num(stock.on_hand).key(keys::stock::sold).num(stock.sold);
  j.key(keys::stock::reservations).raw("[");
  for (std::size_t i = 0; i < stock.reservations.size(); ++i) {
    const auto& r = stock.reservations[i];
    j.raw(i == 0 ? "[" : ",[").num(r.order).raw(",").num(r.quantity).raw(",");
    j.num(r.expires_at).raw("]");
  }
  j.raw("]").key(keys::stock::settled).raw("[");
  for (std::size_t i = 0; i < stock.settled.size(); ++i) {
    const auto& d = stock.settled[i];
    j.raw(i == 0 ? "[" : ",[").num(d.order).raw(",").num(static_cast<int>(d.how)).raw("]");
  }
  j.raw("]");
  if (!stock.adjustments.empty()) { // absent in rows from before adjustment ids
    j.key(keys::stock::adjustments).raw("[");
    for (std::size_t i = 0; i < stock.adjustments.size(); ++i) {
      const auto& a = stock.adjustments[i];
      j.raw(i == 0 ? "[" : ",[").num(a.op).raw(",").num(a.delta).raw("]");
    }
    j.raw("]");
  }
  return j.raw("}").take();
}

namespace {

using json_read::field;
using json_read::item;

/// A snapshot line [product, quantity, unit price, name] within the rules'
/// bounds (what cart_rules could have produced), or nullopt.
template <class Line>
std::optional<Line> decode_line(const json& l) {
  auto product = item<product_id>(l, 0);
  auto quantity = item<std::int32_t>(l, 1);
  auto price = item<cents>(l, 2);
  auto name = item<std::string>(l, 3);
  if (!product || !quantity || !price || !name || *product <= 0 || *quantity <= 0 ||
      *quantity > max_line_quantity || *price < 0 || *price > max_unit_price)
    return std::nullopt;
  return Line{*product, *quantity, *price, std::move(*name)};
}

template <class Lines>
std::optional<Lines> decode_lines(const json* lines) {
  using Line = typename Lines::value_type;
  if (lines == nullptr || !lines->is_array())
    return std::nullopt;
  Lines out;
  out.reserve(lines->size());
  for (const auto& l : *lines) {
    auto line = decode_line<Line>(l);
    if (!line)
      return std::nullopt;
    out.push_back(std::move(*line));
  }
  return out;
}

std::optional<order_status> decode_status(std::optional<int> s) {
  if (!s || *s < static_cast<int>(order_status::submitted) ||
      *s > static_cast<int>(order_status::authentication_required))
    return std::nullopt;
  return static_cast<order_status>(*s);
}

} // namespace

// Decoders read rows back from disk: a row written by an older or broken
// build, or damaged on disk, is refused (nullopt: the entity does not start)
// rather than served. No exceptions, every field type- and range-checked.

std::optional<cart_state> decode_cart(const std::string& text) {
  auto j = json_read::parse(text);
  if (!j)
    return std::nullopt;
  auto lines = decode_lines<cart_lines>(json_read::member(*j, keys::cart::lines));
  if (!lines)
    return std::nullopt;
  for (std::size_t i = 1; i < lines->size(); ++i)
    if ((*lines)[i - 1].product >= (*lines)[i].product)
      return std::nullopt; // cart_rules keeps lines sorted and unique
  cart_state cart{std::move(*lines), {}};
  if (const auto* ops = json_read::member(*j, keys::cart::ops)) {
    if (!ops->is_array() || ops->size() > cart_ops_kept)
      return std::nullopt;
    for (const auto& op : *ops) {
      if (!op.is_number_integer() || op.get<cart_op>() == 0)
        return std::nullopt;
      cart.ops.push_back(op.get<cart_op>());
    }
  }
  return cart;
}

std::optional<stock_state> decode_stock(const std::string& text) {
  auto j = json_read::parse(text);
  if (!j)
    return std::nullopt;
  stock_state s;
  auto on_hand = field<std::int64_t>(*j, keys::stock::on_hand);
  auto sold = field<std::int64_t>(*j, keys::stock::sold);
  auto reservations = json_read::member(*j, keys::stock::reservations);
  auto settled = json_read::member(*j, keys::stock::settled);
  if (!on_hand || !sold || *on_hand < 0 || *sold < 0 || reservations == nullptr ||
      !reservations->is_array() || settled == nullptr || !settled->is_array())
    return std::nullopt;
  s.on_hand = *on_hand;
  s.sold = *sold;
  std::int64_t reserved = 0;
  for (const auto& r : *reservations) {
    auto order = item<order_id>(r, 0);
    auto quantity = item<std::int32_t>(r, 1);
    auto expires = item<millis>(r, 2);
    if (!order || !quantity || !expires || *order <= 0 || *quantity <= 0)
      return std::nullopt;
    reserved += *quantity; // at most 2^31 per entry, so no overflow before the check
    if (reserved > s.on_hand)
      return std::nullopt; // stock_rules: reserved never exceeds on hand
    s.reservations.push_back(reservation{*order, *quantity, *expires});
  }
  for (const auto& d : *settled) {
    auto order = item<order_id>(d, 0);
    auto how = item<int>(d, 1);
    if (!order || !how || *order <= 0 || *how < static_cast<int>(settlement::committed) ||
        *how > static_cast<int>(settlement::returned))
      return std::nullopt;
    s.settled.push_back(settled_order{*order, static_cast<settlement>(*how)});
  }
  if (const auto* adjustments = json_read::member(*j, keys::stock::adjustments)) {
    if (!adjustments->is_array() || adjustments->size() > max_remembered_adjustments)
      return std::nullopt;
    for (const auto& a : *adjustments) {
      auto op = item<adjustment_op>(a, 0);
      auto delta = item<std::int64_t>(a, 1);
      if (!op || !delta || *op == 0)
        return std::nullopt;
      s.adjustments.push_back(applied_adjustment{*op, *delta});
    }
  }
  return s;
}

std::string encode(const order_state& o) {
  namespace k = keys::order;
  json_text j;
  j.raw("{").key(keys::any::version, true).num(1);
  j.key(k::id).num(o.id).key(k::user).str(o.user).key(k::lines).raw("[");
  for (std::size_t i = 0; i < o.lines.size(); ++i) {
    const auto& l = o.lines[i];
    j.raw(i == 0 ? "[" : ",[").num(l.product).raw(",").num(l.quantity).raw(",");
    j.num(l.unit_price).raw(",").str(l.name).raw("]");
  }
  j.raw("]").key(k::total).num(o.total).key(k::payment_method).str(o.payment_method);
  j.key(k::status).num(static_cast<int>(o.status)).key(k::reason).str(o.reason);
  j.key(k::payment_id).str(o.payment_id).key(k::placed_at).num(o.placed_at);
  j.key(k::payment_deadline).num(o.payment_deadline).key(k::compensated).num(o.compensated);
  j.key(k::timeline).raw("[");
  for (std::size_t i = 0; i < o.timeline.size(); ++i) {
    const auto& t = o.timeline[i];
    j.raw(i == 0 ? "[" : ",[").num(static_cast<int>(t.status)).raw(",").str(t.reason);
    j.raw(",").num(t.at).raw("]");
  }
  j.raw("]");
  // Written only when there are any: most orders never get a notice.
  if (!o.payment_events.empty()) {
    j.key(k::payment_events).raw("[");
    for (std::size_t i = 0; i < o.payment_events.size(); ++i)
      j.raw(i == 0 ? "" : ",").str(o.payment_events[i]);
    j.raw("]");
  }
  if (o.refunded != 0)
    j.key(k::refunded).num(o.refunded);
  if (!o.payment_action.empty())
    j.key(k::payment_action).str(o.payment_action);
  return j.raw("}").take();
}

std::string encode(const order_event& e) {
  return json{{"type", "order.status"},          {"orderId", e.order},
              {"status", status_name(e.status)}, {"reason", e.reason},
              {"at", e.at},                      {"totalAmount", cents_to_decimal(e.total)}}
    .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<order_event> decode_event(const std::string& payload, std::string user,
                                        order_id order, std::int64_t seq) {
  auto j = json_read::parse(payload);
  if (!j)
    return std::nullopt;
  auto status_text = field<std::string>(*j, "status");
  auto status = status_text ? parse_status(*status_text) : std::nullopt;
  auto reason = field<std::string>(*j, "reason");
  auto at = field<millis>(*j, "at");
  auto total = field<double>(*j, "totalAmount");
  auto cents = total ? cents_from_decimal(*total, max_order_total) : std::nullopt;
  if (!status || !reason || !at || !cents)
    return std::nullopt;
  return order_event{std::move(user), order, *status, std::move(*reason), *at, *cents, seq};
}

std::optional<order_state> decode_order(const std::string& text) {
  auto j = json_read::parse(text);
  if (!j)
    return std::nullopt;
  order_state o;
  namespace k = keys::order;
  auto id = field<order_id>(*j, k::id);
  auto user = field<std::string>(*j, k::user);
  auto lines = decode_lines<std::vector<order_line>>(json_read::member(*j, k::lines));
  auto total = field<cents>(*j, k::total);
  auto method = field<std::string>(*j, k::payment_method);
  auto status = decode_status(field<int>(*j, k::status));
  auto reason = field<std::string>(*j, k::reason);
  auto payment = field<std::string>(*j, k::payment_id);
  auto placed = field<millis>(*j, k::placed_at);
  auto deadline = field<millis>(*j, k::payment_deadline);
  auto compensated = field<int>(*j, k::compensated);
  auto timeline = json_read::member(*j, k::timeline);
  if (!id || *id < 0 || !user || !lines || !total || *total < 0 || *total > max_order_total || !method || !status ||
      !reason || !payment || !placed || !deadline || !compensated ||
      (*compensated != 0 && *compensated != 1) || timeline == nullptr || !timeline->is_array())
    return std::nullopt;
  o.id = *id;
  o.user = std::move(*user);
  o.lines = std::move(*lines);
  o.total = *total;
  o.payment_method = std::move(*method);
  o.status = *status;
  o.reason = std::move(*reason);
  o.payment_id = std::move(*payment);
  o.placed_at = *placed;
  o.payment_deadline = *deadline;
  o.compensated = *compensated != 0;
  for (const auto& t : *timeline) {
    auto at_status = decode_status(item<int>(t, 0));
    auto why = item<std::string>(t, 1);
    auto at = item<millis>(t, 2);
    if (!at_status || !why || !at)
      return std::nullopt;
    o.timeline.push_back(timeline_entry{*at_status, std::move(*why), *at});
  }
  // Absent in snapshots from before payment notices.
  if (auto events = json_read::member(*j, k::payment_events)) {
    if (!events->is_array() || events->size() > remembered_notices)
      return std::nullopt;
    for (const auto& e : *events) {
      auto id = json_read::as<std::string>(e);
      if (!id)
        return std::nullopt;
      o.payment_events.push_back(std::move(*id));
    }
  }
  if (json_read::member(*j, k::refunded) != nullptr) {
    auto refunded = field<cents>(*j, k::refunded);
    if (!refunded || *refunded < 0)
      return std::nullopt;
    o.refunded = *refunded;
  }
  // Only while the order waits for its buyer's authentication.
  if (json_read::member(*j, k::payment_action) != nullptr) {
    auto action = field<std::string>(*j, k::payment_action);
    if (!action || action->size() > max_payment_action_bytes)
      return std::nullopt;
    o.payment_action = std::move(*action);
  }
  return o;
}

} // namespace emporium
