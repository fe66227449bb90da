// The limits' refusal counter (see limit_refusals.hpp).
#include "http/limit_refusals.hpp"

#include "support/log.hpp"
#include "support/metrics.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <string>

namespace emporium::http {

namespace {

constexpr std::array names{
  "requests_per_client",        "socket_messages_per_client", "requests_in_flight",
  "connections",                "connections_per_client",     "logins_per_address",
  "logins_per_address_account", "registrations_per_address",  "login_checks_queued",
  "registration_checks_queued", "password_checks_per_client", "orders_in_progress",
};
static_assert(names.size() == static_cast<std::size_t>(limit::orders_in_progress) + 1);

/// Every limit's cell made at once, so each is exported from the start (a
/// rate over a series that appears only with the first refusal misses it).
std::array<metrics::counter*, names.size()> make_cells() {
  auto& family = metrics::default_registry().counter_family(
    "emporium_limit_refusals_total",
    "Requests, connections and socket messages refused by a limit (429 or 503 with "
    "Retry-After, or closed), by limit",
    {"limit"});
  std::array<metrics::counter*, names.size()> cells{};
  for (std::size_t i = 0; i < names.size(); ++i)
    cells[i] = &family.with({names[i]});
  return cells;
}

const std::array<metrics::counter*, names.size()>& cells() {
  static const auto made = make_cells();
  return made;
}

/// One `limit_refused` line per limit per interval, naming the client of the
/// refusal that wrote it and how many refusals since went unlogged: under an
/// attack the log shows a sample of who, at a bounded rate.
constexpr std::int64_t log_interval_ns = 10'000'000'000;

struct log_slot {
  std::atomic<std::int64_t> next_ns{0};
  std::atomic<std::uint64_t> held{0};
};

std::array<log_slot, names.size()> log_slots;

void maybe_log(limit which, std::string_view client) {
  auto& slot = log_slots[static_cast<std::size_t>(which)];
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count();
  auto next = slot.next_ns.load(std::memory_order_relaxed);
  if (now < next || !slot.next_ns.compare_exchange_strong(next, now + log_interval_ns)) {
    slot.held.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto held = slot.held.exchange(0, std::memory_order_relaxed);
  log::warn("limit_refused", {{"limit", names[static_cast<std::size_t>(which)]},
                              {"client", std::string{client}},
                              {"unlogged_since", std::to_string(held)}});
}

} // namespace

const char* limit_name(limit which) {
  return names[static_cast<std::size_t>(which)];
}

void export_limit_refusals() {
  cells();
}

void count_refusal(limit which, std::string_view client) {
  cells()[static_cast<std::size_t>(which)]->inc();
  maybe_log(which, client);
}

} // namespace emporium::http
