// Stripe requests and answers (see stripe_messages.hpp).
#include "payments/stripe_messages.hpp"

#include "payments/form_encoding.hpp"
#include "support/json_field.hpp"

#include <array>

namespace emporium::payments::stripe {

namespace jr = emporium::json_read;

api_call create_intent(const charge_params& p, const std::string& key, bool confirm) {
  form_fields f{{"amount", std::to_string(p.amount)},
                {"currency", p.currency},
                {"payment_method", p.payment_method},
                {"payment_method_types[]", "card"},
                {"confirm", confirm ? "true" : "false"},
                {"metadata[order_id]", std::to_string(p.order)}};
  return {true, "/v1/payment_intents", form_encode(f), key};
}

api_call get_intent(std::string_view intent_id) {
  return {false, "/v1/payment_intents/" + percent_encode(intent_id), {}, {}};
}

api_call refund_intent(std::string_view intent_id, const std::string& key) {
  return {true, "/v1/refunds", form_encode({{"payment_intent", std::string{intent_id}}}), key};
}

api_call cancel_intent(std::string_view intent_id, const std::string& key) {
  return {true, "/v1/payment_intents/" + percent_encode(intent_id) + "/cancel", {}, key};
}

std::string decline_reason(std::string_view code, std::string_view decline_code) {
  static constexpr std::array<std::string_view, 6> known = {
    "insufficient_funds", "expired_card",     "incorrect_cvc",
    "incorrect_number",   "processing_error", "card_declined"};
  // The order's reason is shown to whoever placed it. Stripe asks that a
  // card reported lost or stolen, or refused as fraud, be shown as a plain
  // decline: the Dashboard keeps the real code for the shop.
  static constexpr std::array<std::string_view, 4> told_as_declined = {
    "lost_card", "stolen_card", "fraudulent", "pickup_card"};
  for (auto candidate : {decline_code, code})
    for (auto k : told_as_declined)
      if (candidate == k)
        return "card_declined";
  for (auto candidate : {decline_code, code})
    for (auto k : known)
      if (candidate == k)
        return std::string{k};
  if (code == "invalid_cvc")
    return "incorrect_cvc";
  if (code == "payment_intent_authentication_failure")
    return "authentication_failed"; // the holder did not pass 3-D Secure
  if (code == "invalid_expiry_month" || code == "invalid_expiry_year")
    return "expired_card";
  // generic_decline, do_not_honor, card_velocity_exceeded...: a decline
  // the shopper can do nothing about but use another card.
  return "card_declined";
}

namespace {

std::string text_of(const nlohmann::json& obj, std::string_view key) {
  return jr::field<std::string>(obj, key).value_or("");
}

/// An answer's status code in the 2xx range carrying an intent object.
intent_answer read_intent(const nlohmann::json& intent) {
  auto id = text_of(intent, "id");
  auto status = text_of(intent, "status");
  if (id.empty() || status.empty())
    return {verdict::retry, {}, "answer without an intent id or status"};
  if (status == "succeeded")
    return {verdict::succeeded, id, {}};
  if (status == "requires_action")
    return {verdict::requires_action, id, "authentication_required",
            text_of(intent, "client_secret")};
  if (status == "processing")
    return {verdict::processing, id, {}};
  if (status == "canceled")
    return {verdict::canceled, id, {}};
  if (status == "requires_payment_method") {
    // A confirmed intent back at requires_payment_method was declined;
    // the error that says why is its last_payment_error.
    if (auto err = jr::member(intent, "last_payment_error"); err && err->is_object())
      return {verdict::declined, id, decline_reason(text_of(*err, "code"),
                                                    text_of(*err, "decline_code"))};
  }
  return {verdict::unsettled, id, {}};
}

} // namespace

intent_answer read_intent_answer(int status, std::string_view body) noexcept {
  try {
    if (status == 0)
      return {verdict::retry, {}, "no answer"};
    if (status == 429 || status >= 500 || status == 409)
      return {verdict::retry, {}, "http " + std::to_string(status)};
    auto doc = jr::parse(body);
    if (!doc || !doc->is_object())
      return {status / 100 == 2 ? verdict::retry : verdict::rejected, {},
              "answer is not JSON (http " + std::to_string(status) + ")"};
    if (status / 100 == 2)
      return read_intent(*doc);
    const nlohmann::json* err = jr::member(*doc, "error");
    static const nlohmann::json none = nlohmann::json::object();
    const auto& e = err && err->is_object() ? *err : none;
    auto type = text_of(e, "type");
    auto code = text_of(e, "code");
    std::string intent_id;
    if (auto pi = jr::member(e, "payment_intent"))
      intent_id = text_of(*pi, "id");
    if (type == "card_error" || status == 402)
      return {verdict::declined, intent_id, decline_reason(code, text_of(e, "decline_code"))};
    if (type == "idempotency_error")
      return {verdict::key_reused, intent_id, "idempotency_error"};
    if (code == "resource_missing" && text_of(e, "param") == "payment_method")
      return {verdict::declined, intent_id, "invalid_payment_method"};
    if (code == "payment_intent_authentication_failure")
      return {verdict::declined, intent_id, "authentication_required"};
    return {verdict::rejected, intent_id,
            "http " + std::to_string(status) + " " + (code.empty() ? type : code)};
  } catch (...) {
    return {verdict::retry, {}, "unreadable answer"};
  }
}

settle_verdict read_settle_answer(int status, std::string_view body) noexcept {
  try {
    if (status / 100 == 2)
      return settle_verdict::done;
    if (status == 0 || status == 429 || status == 409 || status >= 500)
      return settle_verdict::retry;
    auto doc = jr::parse(body);
    if (auto err = doc ? jr::member(*doc, "error") : nullptr) {
      auto code = text_of(*err, "code");
      if (code == "charge_already_refunded")
        return settle_verdict::done;
      // The intent moved on (say, succeeded while being canceled): read it
      // again and settle what it is now.
      if (code == "payment_intent_unexpected_state")
        return settle_verdict::retry;
    }
    return settle_verdict::rejected;
  } catch (...) {
    return settle_verdict::retry;
  }
}

} // namespace emporium::payments::stripe
