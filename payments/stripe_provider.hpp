// The Stripe provider: charges through PaymentIntents, gives money back
// through refunds and cancels, over the HTTPS client. Implements
// payment_provider, so the payment actor bounds, times out, retries and
// breaks its calls exactly as it does the test-mode provider's.
#pragma once

#include "actors/payment/payment_provider.hpp"
#include "payments/https_client.hpp"

#include <memory>
#include <string>

namespace emporium::payments {

struct stripe_options {
  https_options http;      ///< base_url (https://api.stripe.com), ca_file, pool, timeout
  std::string secret_key;  ///< sk_test_... / sk_live_...: sent as Bearer, never logged
  std::string currency = "usd";
  /// Starts every idempotency key: "emporium-<installation id>", so two
  /// installations (or one whose data directory was wiped) sharing a Stripe
  /// account never replay each other's order ids.
  std::string key_prefix = "emporium";
  /// A card that asks for 3-D Secure waits for the buyer's browser to run
  /// it (the storefront has Stripe.js: a publishable key is set); without,
  /// such a charge is canceled and declined (authentication_required).
  bool buyer_authenticates = false;
};

/// Throws std::invalid_argument when the URL or the CA file is unusable.
std::unique_ptr<payment_provider> make_stripe_provider(stripe_options opts);

/// The idempotency key of one order's step (charge, refund, cancel).
std::string stripe_key(const std::string& prefix, const std::string& order_key,
                       std::string_view step);

} // namespace emporium::payments
