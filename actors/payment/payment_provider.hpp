// The one interface every payment provider implements. Calls are keyed by an
// idempotency key derived from the order, so a retried charge or refund
// never charges or refunds twice.
#pragma once

#include "domain/money.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace emporium {

struct charge_request {
  std::string idempotency_key; // "order-<id>"
  std::int64_t order = 0;
  cents amount = 0;
  std::string payment_method; // e.g. pm_card_visa
};

enum class charge_status : std::uint8_t {
  succeeded = 1,
  declined = 2,  // final: the card was refused (reason says why)
  transient = 3, // the call failed on the way; retrying may succeed
  /// The card asks its holder to authenticate (3-D Secure): the charge
  /// waits for the buyer's browser (action_secret), then `status` tells.
  requires_action = 4,
};

struct charge_result {
  charge_status status = charge_status::transient;
  std::string reason;        // decline code, e.g. card_declined, insufficient_funds
  std::string payment_id;    // provider's id when succeeded or waiting for an action
  std::string action_secret; // requires_action: what the buyer's browser needs
};

/// Receives a provider call's result: exactly once, from any thread (maybe
/// before the call that started it has returned).
using charge_done = std::function<void(charge_result)>;

/// Calls are asynchronous: a call starts a request and returns at once, and
/// many calls are in flight together (the payment actor bounds how many and
/// times each one out). A provider never blocks its caller.
class payment_provider {
public:
  virtual ~payment_provider() = default;
  virtual void charge(const charge_request& req, charge_done done) = 0;
  /// Refunds (or voids) whatever was charged under `req.idempotency_key`;
  /// succeeds with nothing to do when nothing was charged. `req` is the
  /// charge's request (same amount and method), which a provider may replay
  /// to learn what became of it.
  virtual void refund(const charge_request& req, charge_done done) = 0;
  /// What became of a charge that required an action (`payment_id`, the
  /// provider's id of it): succeeded, declined (the authentication failed
  /// or the card was refused after it), requires_action (still waiting), or
  /// transient.
  virtual void status(const charge_request& req, const std::string& payment_id,
                      charge_done done) = 0;
};

struct test_mode_options {
  std::string ledger_path;              // SQLite file holding the provider's ledger
  std::chrono::milliseconds latency{0}; // per call, before the answer is delivered
  double transient_failure_rate = 0.0;  // 0..1
  std::uint64_t seed = 42;
  /// A thread of its own answers (after `latency`), as a remote provider
  /// would. Off, a call answers before it returns, ignoring `latency`: for
  /// deterministic tests, where no other thread may deliver messages.
  bool own_thread = true;
  /// Ledger rows older than this are deleted (0: kept for good), swept on
  /// the provider's own thread at its start and every `sweep_every` (every
  /// second while a step found more due). Only a charge's own saga asks
  /// about it again, within the reservations' life.
  std::chrono::milliseconds retention{0};
  std::chrono::milliseconds sweep_every{600'000};
};

/// Behaves like Stripe's test mode: pm_card_visa / pm_card_mastercard
/// succeed; pm_card_chargeDeclined -> card_declined,
/// pm_card_chargeDeclinedInsufficientFunds -> insufficient_funds,
/// pm_card_chargeDeclinedExpiredCard -> expired_card; anything else ->
/// invalid_payment_method. Its ledger (what a real provider remembers) is
/// persisted, so idempotency holds across restarts of the node.
std::unique_ptr<payment_provider> make_test_mode_provider(const test_mode_options& opts);

} // namespace emporium
