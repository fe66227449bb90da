// Stripe's webhook deliveries: the Stripe-Signature check and the events
// Emporium acts on. Pure functions over bytes from the network (fuzzed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emporium::payments::stripe {

enum class signature_check : std::uint8_t {
  valid,
  malformed, ///< no t= or no v1=, or not numbers/hex
  stale,     ///< t is outside the tolerance (a replayed delivery)
  mismatch,  ///< no v1 signature matches
};

/// Checks `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=...][,v0=...]`: some v1
/// must equal HMAC-SHA256(secret, "<t>.<payload>") (constant-time compare)
/// and |now - t| <= tolerance. Never throws.
signature_check verify_signature(std::string_view header, std::string_view payload,
                                 std::string_view secret, std::int64_t now_s,
                                 std::int64_t tolerance_s = 300) noexcept;

/// The header a delivery at `t` carries (what Stripe computes; for tests).
std::string sign_payload(std::string_view payload, std::string_view secret, std::int64_t t);

enum class event_kind : std::uint8_t {
  intent_succeeded, ///< payment_intent.succeeded
  intent_failed,    ///< payment_intent.payment_failed
  charge_refunded,  ///< charge.refunded
  other,            ///< anything else: answered 200 and ignored
};

struct webhook_event {
  std::string id; ///< evt_...: each is acted on once
  event_kind kind = event_kind::other;
  std::int64_t order = 0;  ///< metadata.order_id of the object (0: none)
  std::string intent_id;   ///< the PaymentIntent the object is or belongs to
  std::string reason;      ///< payment_failed: the decline, as the saga names it
  std::int64_t refunded = 0; ///< charge.refunded: amount_refunded (cents)
};

/// Parses an event's JSON; nullopt when it is not an event (no id or type).
/// An event of a kind Emporium acts on without a usable order id reads
/// as `other`. Never throws.
std::optional<webhook_event> parse_event(std::string_view body) noexcept;

std::string_view event_kind_name(event_kind k);

} // namespace emporium::payments::stripe
