// Stripe webhook signature and events (see stripe_webhook.hpp).
#include "payments/stripe_webhook.hpp"

#include "payments/stripe_messages.hpp"
#include "support/json_field.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <vector>

namespace emporium::payments::stripe {

namespace jr = emporium::json_read;

namespace {

using digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

digest hmac(std::string_view secret, std::string_view t, std::string_view payload) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(t.data()), t.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>("."), 1);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(payload.data()),
                                payload.size());
  digest out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

std::optional<digest> from_hex(std::string_view hex) {
  digest out;
  if (hex.size() != out.size() * 2)
    return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned value = 0;
    auto pair = hex.substr(i * 2, 2);
    auto [end, ec] = std::from_chars(pair.data(), pair.data() + 2, value, 16);
    if (ec != std::errc{} || end != pair.data() + 2)
      return std::nullopt;
    out[i] = static_cast<unsigned char>(value);
  }
  return out;
}

std::string text_of(const nlohmann::json& obj, std::string_view key) {
  return jr::field<std::string>(obj, key).value_or("");
}

/// metadata.order_id: Stripe keeps metadata values as strings.
std::int64_t order_of(const nlohmann::json& object) {
  auto meta = jr::member(object, "metadata");
  auto text = meta ? text_of(*meta, "order_id") : std::string{};
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || id <= 0)
    return 0;
  return id;
}

} // namespace

signature_check verify_signature(std::string_view header, std::string_view payload,
                                 std::string_view secret, std::int64_t now_s,
                                 std::int64_t tolerance_s) noexcept {
  try {
    std::string_view t;
    std::vector<std::string_view> v1;
    while (!header.empty()) {
      auto comma = header.find(',');
      auto item = header.substr(0, comma);
      header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
      while (!item.empty() && item.front() == ' ')
        item.remove_prefix(1);
      auto eq = item.find('=');
      if (eq == std::string_view::npos)
        continue;
      auto key = item.substr(0, eq);
      if (key == "t")
        t = item.substr(eq + 1);
      else if (key == "v1" && v1.size() < 8)
        v1.push_back(item.substr(eq + 1));
    }
    std::int64_t at = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), at);
    if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || v1.empty())
      return signature_check::malformed;
    if (at < now_s - tolerance_s || at > now_s + tolerance_s)
      return signature_check::stale;
    auto expected = hmac(secret, t, payload);
    bool any_hex = false;
    for (auto candidate : v1) {
      auto got = from_hex(candidate);
      if (!got)
        continue;
      any_hex = true;
      if (sodium_memcmp(got->data(), expected.data(), expected.size()) == 0)
        return signature_check::valid;
    }
    return any_hex ? signature_check::mismatch : signature_check::malformed;
  } catch (...) {
    return signature_check::malformed;
  }
}

std::string sign_payload(std::string_view payload, std::string_view secret, std::int64_t t) {
  auto ts = std::to_string(t);
  auto d = hmac(secret, ts, payload);
  char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, d.data(), d.size());
  return "t=" + ts + ",v1=" + hex;
}

std::optional<webhook_event> parse_event(std::string_view body) noexcept {
  try {
    auto doc = jr::parse(body);
    if (!doc)
      return std::nullopt;
    webhook_event ev;
    ev.id = text_of(*doc, "id");
    auto type = text_of(*doc, "type");
    if (ev.id.empty() || ev.id.size() > 255 || type.empty())
      return std::nullopt;
    auto data = jr::member(*doc, "data");
    auto object = data ? jr::member(*data, "object") : nullptr;
    if (object == nullptr || !object->is_object())
      return ev; // other: nothing to act on
    ev.order = order_of(*object);
    if (type == "payment_intent.succeeded" || type == "payment_intent.payment_failed") {
      ev.intent_id = text_of(*object, "id");
      ev.kind = type == "payment_intent.succeeded" ? event_kind::intent_succeeded
                                                    : event_kind::intent_failed;
      if (auto err = jr::member(*object, "last_payment_error"); err && err->is_object())
        ev.reason = decline_reason(text_of(*err, "code"), text_of(*err, "decline_code"));
      else if (ev.kind == event_kind::intent_failed)
        ev.reason = "card_declined";
    } else if (type == "charge.refunded") {
      ev.kind = event_kind::charge_refunded;
      ev.intent_id = text_of(*object, "payment_intent");
      ev.refunded = jr::field<std::int64_t>(*object, "amount_refunded").value_or(0);
    }
    if (ev.order == 0 || ev.intent_id.empty())
      ev.kind = event_kind::other;
    return ev;
  } catch (...) {
    return std::nullopt;
  }
}

std::string_view event_kind_name(event_kind k) {
  switch (k) {
    case event_kind::intent_succeeded: return "payment_intent.succeeded";
    case event_kind::intent_failed: return "payment_intent.payment_failed";
    case event_kind::charge_refunded: return "charge.refunded";
    case event_kind::other: break;
  }
  return "other";
}

} // namespace emporium::payments::stripe
