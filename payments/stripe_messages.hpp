// Stripe's API as plain data: the requests Emporium makes (PaymentIntents,
// refunds, cancels) and what their answers mean. No I/O here, so the
// reading of every answer is unit-tested and fuzzed.
#pragma once

#include "domain/money.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace emporium::payments::stripe {

/// Pinned, so a change in Stripe's default version cannot change the shape
/// of the answers read below.
inline constexpr std::string_view api_version = "2024-06-20";

/// One request to Stripe's API: what the HTTPS client sends.
struct api_call {
  bool post = true;
  std::string path;            ///< e.g. /v1/payment_intents
  std::string body;            ///< form-encoded (POST only)
  std::string idempotency_key; ///< on every POST: a retry can never act twice
};

struct charge_params {
  std::int64_t order = 0;
  cents amount = 0;
  std::string currency;       ///< e.g. usd
  std::string payment_method; ///< pm_...
};

/// Creates and confirms the order's PaymentIntent. `confirm` is false only
/// for the void probe of a refund (see stripe_provider.cpp).
api_call create_intent(const charge_params& p, const std::string& key, bool confirm = true);
/// The intent as it stands now (an idempotent replay answers as it stood).
api_call get_intent(std::string_view intent_id);
/// Gives back all the money of a succeeded intent.
api_call refund_intent(std::string_view intent_id, const std::string& key);
/// Cancels an intent that holds no money yet.
api_call cancel_intent(std::string_view intent_id, const std::string& key);

enum class verdict : std::uint8_t {
  succeeded,       ///< the intent holds the money
  declined,        ///< final: the card was refused (reason says why)
  requires_action, ///< 3-D Secure or similar: the card holder must act (client_secret)
  unsettled,       ///< requires_payment_method / _confirmation / _capture: no money yet
  processing,      ///< Stripe is still deciding: ask again later
  canceled,        ///< no money, and there never will be
  retry,           ///< no answer, 429, 5xx, 409 idempotency_key_in_use
  key_reused,      ///< 400 idempotency_error: the key went with other parameters
  rejected,        ///< any other 4xx: Stripe will never accept this request
};

struct intent_answer {
  verdict what = verdict::retry;
  std::string intent_id; ///< pi_... when the answer names one
  std::string reason;    ///< declined: the saga's reason; retry/rejected: why
  std::string client_secret; ///< what Stripe.js needs to act on the intent (if named)
};

/// Reads an answer that carries a PaymentIntent (create, get); `status` 0
/// means no answer came (network error, timeout). Never throws.
intent_answer read_intent_answer(int status, std::string_view body) noexcept;

enum class settle_verdict : std::uint8_t { done, retry, rejected };

/// Reads the answer to a refund or cancel; `done` also when there was
/// nothing left to do (already refunded). Never throws.
settle_verdict read_settle_answer(int status, std::string_view body) noexcept;

/// Stripe's `decline_code` (or `code`) as one of the order saga's reasons:
/// card_declined, insufficient_funds, expired_card, incorrect_cvc,
/// incorrect_number, authentication_failed, processing_error (a card
/// reported lost or stolen, or refused as fraud: card_declined).
std::string decline_reason(std::string_view code, std::string_view decline_code);

} // namespace emporium::payments::stripe
