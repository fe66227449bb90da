// One counter of what the node's limits refused, by limit, so an operator
// sees an attack (or a limit set too low) as it happens:
// emporium_limit_refusals_total{limit}; and a `limit_refused` log line per
// limit at most every 10 s, naming a refused client. Every limit that
// answers 429 or 503 with Retry-After, or closes a connection over a cap,
// counts here.
#pragma once

#include <string_view>

namespace emporium::http {

enum class limit {
  requests_per_client,        ///< --requests-per-second-client (HTTP requests)
  socket_messages_per_client, ///< the same budget, a live socket's messages (closed 1008)
  requests_in_flight,         ///< the node's cap on API requests in progress (503)
  connections,                ///< --max-connections (closed at once)
  connections_per_client,     ///< --max-connections-per-client (one 429, closed)
  logins_per_address,         ///< --login-failures-per-minute-ip (node or address's shard)
  logins_per_address_account, ///< --login-failures-per-minute-account (account's shard)
  registrations_per_address,  ///< --registrations-per-minute-ip (node or address's shard)
  login_checks_queued,        ///< --password-hash-queue, the login pool (503)
  registration_checks_queued, ///< --password-hash-queue, the registration pool (503)
  password_checks_per_client, ///< --password-checks-per-client, both pools (429)
  orders_in_progress,         ///< --max-orders-in-progress at the order's node (503)
};

/// The label value of `which` ("logins_per_address", ...).
const char* limit_name(limit which);

/// Makes every limit's series, at 0 (the server does, when it is built).
void export_limit_refusals();

/// Counts one refusal by `which` of `client` (the request's client, or the
/// socket's peer). Cheap: two relaxed atomic adds, a log line now and then.
void count_refusal(limit which, std::string_view client);

} // namespace emporium::http
