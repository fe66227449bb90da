// The built-in provider that behaves like Stripe's test mode (see
// payment_provider.hpp). Its ledger stands for the provider's own memory.
#include "actors/payment/payment_provider.hpp"

#include "persistence/payment_ledger.hpp"

#include <fmt/format.h>
#include <mutex>
#include <random>

namespace emporium {

namespace {

class test_mode_provider final : public payment_provider {
public:
  explicit test_mode_provider(const test_mode_options& opts)
    : ledger_(opts.ledger_path, persistence::durability::normal),
      latency_(opts.latency),
      failure_rate_(opts.transient_failure_rate),
      rng_(opts.seed) {
  }

  charge_result charge(const charge_request& req) override {
    std::lock_guard guard{mutex_};
    if (fails_in_transit())
      return {charge_status::transient, "network_error", {}};
    if (auto known = ledger_.find(req.idempotency_key))
      return result_of(*known); // same key: same answer, never a second charge
    persistence::ledger_entry e{req.idempotency_key, req.order, req.amount, req.payment_method,
                                "succeeded", "", ""};
    const auto& pm = req.payment_method;
    if (pm == "pm_card_visa" || pm == "pm_card_mastercard") {
      e.payment_id = fmt::format("pi_test_{}", req.order);
    } else {
      e.status = "declined";
      e.reason = pm == "pm_card_chargeDeclined"                    ? "card_declined"
                 : pm == "pm_card_chargeDeclinedInsufficientFunds" ? "insufficient_funds"
                 : pm == "pm_card_chargeDeclinedExpiredCard"       ? "expired_card"
                                                                   : "invalid_payment_method";
    }
    ledger_.insert(e);
    return result_of(e);
  }

  charge_result refund(const std::string& key) override {
    std::lock_guard guard{mutex_};
    if (fails_in_transit())
      return {charge_status::transient, "network_error", {}};
    auto known = ledger_.find(key);
    if (!known) {
      // Void: a charge that arrives later under this key is refused, so a
      // cancel that overtakes a retried charge can never leave money taken.
      ledger_.insert({key, 0, 0, "", "declined", "voided", "", false});
      return {charge_status::succeeded, "", ""};
    }
    if (known->status == "succeeded" && !known->refunded)
      ledger_.mark_refunded(key);
    return {charge_status::succeeded, "", known->payment_id};
  }

  std::chrono::milliseconds latency() const override {
    return latency_;
  }

private:
  bool fails_in_transit() {
    return failure_rate_ > 0 && std::uniform_real_distribution<double>{0, 1}(rng_) < failure_rate_;
  }

  static charge_result result_of(const persistence::ledger_entry& e) {
    if (e.status == "succeeded")
      return {charge_status::succeeded, "", e.payment_id};
    return {charge_status::declined, e.reason, {}};
  }

  std::mutex mutex_;
  persistence::payment_ledger ledger_;
  std::chrono::milliseconds latency_;
  double failure_rate_;
  std::mt19937_64 rng_;
};

} // namespace

std::unique_ptr<payment_provider> make_test_mode_provider(const test_mode_options& opts) {
  return std::make_unique<test_mode_provider>(opts);
}

} // namespace emporium
