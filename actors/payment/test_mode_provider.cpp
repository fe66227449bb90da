// The built-in provider that behaves like Stripe's test mode (see
// payment_provider.hpp). Its ledger stands for the provider's own memory.
#include "actors/payment/payment_provider.hpp"

#include "actors/node_metrics.hpp"
#include "domain/wall_clock.hpp"
#include "persistence/payment_ledger.hpp"
#include "support/log.hpp"
#include "support/thread_name.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>
#include <memory>
#include <optional>
#include <random>
#include <thread>

namespace emporium {

namespace {

/// The provider's side of the conversation: a ledger, and what it answers.
/// Not locked: only the provider's own thread touches it (or, inline in
/// deterministic tests, the one payment actor).
class test_mode_ledger {
public:
  explicit test_mode_ledger(const test_mode_options& opts)
    : ledger_(opts.ledger_path, persistence::durability::normal),
      failure_rate_(opts.transient_failure_rate),
      rng_(opts.seed) {
  }

  charge_result charge(const charge_request& req) {
    if (fails_in_transit())
      return {charge_status::transient, "network_error", {}};
    if (auto known = ledger_.find(req.idempotency_key))
      return result_of(*known); // same key: same answer, never a second charge
    persistence::ledger_entry e{req.idempotency_key, req.order, req.amount, req.payment_method,
                                "succeeded", "", "", false, wall_clock_ms()};
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

  charge_result refund(const std::string& key) {
    if (fails_in_transit())
      return {charge_status::transient, "network_error", {}};
    auto known = ledger_.find(key);
    if (!known) {
      // Void: a charge that arrives later under this key is refused, so a
      // cancel that overtakes a retried charge can never leave money taken.
      ledger_.insert({key, 0, 0, "", "declined", "voided", "", false, wall_clock_ms()});
      return {charge_status::succeeded, "", ""};
    }
    if (known->status == "succeeded" && !known->refunded)
      ledger_.mark_refunded(key);
    return {charge_status::succeeded, "", known->payment_id};
  }

  /// This provider never asks for an authentication; asked anyway, it
  /// tells what its ledger holds for the key.
  charge_result status(const std::string& key) {
    if (fails_in_transit())
      return {charge_status::transient, "network_error", {}};
    if (auto known = ledger_.find(key))
      return result_of(*known);
    return {charge_status::declined, "authentication_required", {}};
  }

  /// One retention step: rows made before `cutoff_ms`, 5,000 at most.
  persistence::ledger_swept sweep(std::int64_t cutoff_ms) {
    return ledger_.sweep(cutoff_ms, 5'000, 2'000);
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

  persistence::payment_ledger ledger_;
  double failure_rate_;
  std::mt19937_64 rng_;
};

/// Answers on a thread of its own after the configured latency, the way a
/// remote provider answers over the network: the ledger work runs there
/// and a timer holds each answer, so any number of calls wait at once and
/// the caller never blocks. Inline (deterministic tests), it answers at once.
class test_mode_provider final : public payment_provider {
public:
  explicit test_mode_provider(const test_mode_options& opts)
    : ledger_(opts), latency_(opts.latency), retention_(opts.retention),
      sweep_every_(opts.sweep_every), sweep_timer_(io_) {
    if (opts.own_thread) {
      work_.emplace(io_.get_executor());
      if (retention_.count() > 0)
        boost::asio::post(io_, [this] { sweep(); });
      thread_ = std::thread([this] {
        name_this_thread("payment test");
        io_.run();
      });
    }
  }

  ~test_mode_provider() override {
    if (!thread_.joinable())
      return;
    work_.reset();
    io_.stop(); // answers still waiting are dropped: their callers time out
    thread_.join();
  }

  void charge(const charge_request& req, charge_done done) override {
    run([this, req] { return ledger_.charge(req); }, std::move(done));
  }

  void refund(const charge_request& req, charge_done done) override {
    run([this, key = req.idempotency_key] { return ledger_.refund(key); }, std::move(done));
  }

  void status(const charge_request& req, const std::string&, charge_done done) override {
    run([this, key = req.idempotency_key] { return ledger_.status(key); }, std::move(done));
  }

private:
  /// Deletes what retention says is old, between the calls on this thread
  /// (a step of 5,000 rows holds the next answers ~7 ms: the same SQL from
  /// Python's sqlite3 on a ledger of 200,000 rows), and
  /// sets the next step. A failure (a busy file) is logged and tried again
  /// at the next interval.
  void sweep() {
    persistence::ledger_swept done;
    try {
      done = ledger_.sweep(wall_clock_ms() - retention_.count());
    } catch (const std::exception& e) {
      log::error("payment_ledger_sweep_failed", {{"error", e.what()}});
    }
    auto& m = node_metrics::get();
    m.payments_pruned->inc(static_cast<double>(done.rows));
    m.pages_reclaimed->inc(static_cast<double>(done.pages));
    if (done.rows + done.pages > 0)
      log::write("info", "payment_ledger_swept", {{"rows", std::to_string(done.rows)},
                                                  {"pages", std::to_string(done.pages)}});
    sweep_timer_.expires_after(done.more ? std::chrono::milliseconds(1000) : sweep_every_);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec)
        sweep();
    });
  }

  template <class Work>
  void run(Work work, charge_done done) {
    if (!thread_.joinable()) {
      done(guarded(work));
      return;
    }
    boost::asio::post(io_, [this, work = std::move(work), done = std::move(done)]() mutable {
      auto result = guarded(work);
      if (latency_.count() == 0) {
        done(std::move(result));
        return;
      }
      auto timer = std::make_shared<boost::asio::steady_timer>(io_, latency_);
      timer->async_wait([timer, result = std::move(result), done = std::move(done)](
                          const boost::system::error_code&) mutable { done(std::move(result)); });
    });
  }

  /// A ledger that cannot be written is a failure on the way, not a crash.
  template <class Work>
  static charge_result guarded(Work& work) {
    try {
      return work();
    } catch (const std::exception& e) {
      return {charge_status::transient, e.what(), {}};
    }
  }

  test_mode_ledger ledger_;
  std::chrono::milliseconds latency_;
  std::chrono::milliseconds retention_; // 0: no sweeps
  std::chrono::milliseconds sweep_every_;
  boost::asio::io_context io_;
  boost::asio::steady_timer sweep_timer_; // only the provider's thread touches it
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

} // namespace

std::unique_ptr<payment_provider> make_test_mode_provider(const test_mode_options& opts) {
  return std::make_unique<test_mode_provider>(opts);
}

} // namespace emporium
