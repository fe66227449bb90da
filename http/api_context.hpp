// Everything the route handlers share: the backend (actors), the catalog
// read model, token and password services, limits. Built once in main.
#pragma once

#include "actors/catalog/catalog_view.hpp"
#include "http/auth/credentials.hpp"
#include "domain/attempt_limiter.hpp"
#include "domain/in_flight_limiter.hpp"
#include "http/auth/jwt.hpp"
#include "http/backend.hpp"
#include "http/router.hpp"
#include "http/websocket.hpp"

#include <optional>
#include <string>

namespace emporium::http {

/// Per-client limits of the auth routes kept by this node (keyed by the
/// request's client, http/client_address.hpp: a proxy's clients are told
/// apart, an IPv6 client is its network): a first gate, before any
/// message. Each is counted again at a shard, the same for every node of
/// a cluster: logins and registrations
/// per address at the address's shard (admit_login_from,
/// admit_registration), logins per (client address, account) and an
/// account's failures at the account's shard (begin_login).
struct auth_limits {
  auth_limits(unsigned logins_per_address, unsigned logins_per_address_account,
              unsigned registrations_per_address, unsigned password_checks_per_client = 8)
    : login_by_address(logins_per_address),
      registrations_by_address(registrations_per_address),
      password_checks(password_checks_per_client),
      account_delay_after(logins_per_address_account) {}
  attempt_limiter login_by_address;
  attempt_limiter registrations_by_address;
  /// Password checks and hashes a client may have queued or running at
  /// once (config: password-checks-per-client): the hash pools' queues
  /// are shared by every client, and one client's burst (30 logins a
  /// minute are allowed, all at once) must not fill them.
  in_flight_limiter password_checks;
  /// An account's failed logins from any address past this many in a
  /// minute: a growing delay before each verification, never a refusal (a
  /// refusal would lock the owner out).
  unsigned account_delay_after;
};

/// What the storefront needs to take a payment (GET /api/payments/config):
/// which provider charges, whether real money moves, and the Stripe
/// publishable key its card form uses ("" = no card form: test cards).
struct payment_setup {
  std::string provider = "test"; ///< test | stripe
  bool live = false;
  std::string publishable_key;
};

struct api_context {
  backend& actors;
  catalog_view& catalog;
  jwt_codec tokens;
  password_hasher& hasher;
  auth_limits limits;
  unsigned access_token_minutes = 15;
  unsigned refresh_token_days = 7;
  std::string static_dir;
  std::string stripe_webhook_secret; ///< "" = no webhook endpoint (404)
  payment_setup payments;
};

/// The caller's verified claims, or nullopt after answering 401 through
/// `respond`. Token from `Authorization: Bearer`, or the `access_token`
/// query on the WebSocket upgrade paths only (/ws, /notificationHub).
std::optional<token_claims> authenticate(api_context& ctx, const request& req,
                                         responder& respond);

/// As authenticate, and also 403 unless the caller is an admin.
std::optional<token_claims> authenticate_admin(api_context& ctx, const request& req,
                                               responder& respond);

std::int64_t now_seconds();

/// A route handler from a function taking the shared context first.
template <class Fn>
handler with_context(api_context& ctx, Fn fn) {
  return [&ctx, fn](request& req, responder respond) { fn(ctx, req, std::move(respond)); };
}

void add_health_routes(router& r, api_context& ctx);
void add_auth_routes(router& r, api_context& ctx);
void add_product_routes(router& r, api_context& ctx);
void add_cart_routes(router& r, api_context& ctx);
void add_order_routes(router& r, api_context& ctx);
void add_live_routes(router& r, api_context& ctx);
void add_cluster_routes(router& r, api_context& ctx);
void add_payment_routes(router& r, api_context& ctx);
void add_csp_report_routes(router& r, api_context& ctx);

class live_hub;
/// Upgrades for GET /ws and GET /notificationHub (token required; at most
/// `max_sockets_per_user` open per user across both, 429 beyond).
ws_factory make_live_endpoints(api_context& ctx, live_hub& hub, unsigned max_sockets_per_user);
void add_static_files(router& r, api_context& ctx);

/// All of the above.
void add_all_routes(router& r, api_context& ctx);

} // namespace emporium::http
