// One typed configuration for a node. Sources, later ones win:
// defaults < config file (--config, EMPORIUM_CONFIG) < EMPORIUM_* environment
// variables < command-line flags. config/emporium.example.conf documents
// every key; the same key works in all three places:
//   file: `data-dir = ./data`   env: `EMPORIUM_DATA_DIR=./data`   flag: `--data-dir ./data`
#pragma once

#include "domain/entity_limits.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace emporium {

struct node_config {
  // -- node
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string data_dir = "./data";
  std::string config_file;
  bool sync_full = false; // SQLite synchronous=FULL (power-loss safe) instead of NORMAL
  bool demo_catalog = true;
  unsigned threads = 0; // HTTP I/O threads; 0 = one per core
  std::uint16_t metrics_port = 9464;    // GET /metrics (Prometheus); 0 = off
  std::string metrics_bind = "127.0.0.1";
  std::string log_format = "json";     // json | text (stdout, one line per event)
  std::string log_level = "info";      // debug | info | warn | error | off
  unsigned slow_request_ms = 500;      // slower requests are logged at warn
  std::string otlp_endpoint;           // http://host:port of an OTLP collector; "" = no traces

  // -- cluster (node_port 0 = a single node, no cluster listener)
  std::string node_name;          // default: <bind>:<node-port>, or "local"
  std::uint16_t node_port = 0;    // CAF middleman port other nodes connect to
  std::vector<std::string> seeds; // host:port of every member (self may be listed)
  unsigned shards = 12;           // fixed per data directory
  unsigned heartbeat_ms = 500;
  unsigned peer_timeout_ms = 2'000; // silent peer considered dead after this
  // Node-to-node traffic over TLS with mutual authentication against the
  // cluster CA (off only on a trusted private network).
  bool cluster_tls = true;
  std::string cluster_cert; // this node's certificate chain (PEM), signed by the CA
  std::string cluster_key;  // its private key (PEM, unencrypted, mode 0600)
  std::string cluster_ca;   // the cluster CA certificate (PEM) peers must chain to

  // -- entities
  unsigned idle_timeout_s = 120;
  std::uint64_t max_resident = default_max_resident;

  // -- HTTP edge
  std::string static_dir = "ui/dist";
  std::vector<std::string> cors_origins;
  std::vector<std::string> trusted_proxies; // CIDRs whose X-Forwarded-For is believed
  unsigned client_ipv6_prefix = 64;          // an IPv6 client is its network of this many bits
  std::uint64_t max_body_bytes = 1 << 20;
  std::uint64_t max_header_bytes = 8 << 10;
  unsigned read_timeout_s = 30;
  unsigned max_connections = 10'000;
  unsigned max_connections_per_client = 256; // by client address; trusted proxies exempt
  unsigned requests_per_second_client = 100; // by client address, bursts of 2x; 0 = none
  unsigned max_requests_in_flight = 4096;    // on the whole node; 0 = none
  unsigned max_sockets_per_user = 16;        // live sockets across /ws and the hub
  unsigned header_timeout_s = 10;            // to send a complete request head
  unsigned request_timeout_ms = 5'000;

  // -- orders and payments
  unsigned reserve_ttl_s = 600;
  unsigned max_orders_in_progress = 4'096; // per node; 0 = no bound
  unsigned payment_timeout_ms = 30'000;
  unsigned payment_authentication_timeout_ms = 300'000; // 3-D Secure: the buyer's time
  unsigned payment_latency_ms = 0;
  unsigned payment_max_in_flight = 512;
  unsigned payment_call_timeout_ms = 10'000;
  double payment_failure_rate = 0.0;
  unsigned payment_breaker_threshold = 5;
  unsigned payment_breaker_cooldown_ms = 5'000;
  std::string payment_provider = "test"; // test (built in, Stripe-like) | stripe
  std::string currency = "usd";
  std::string stripe_secret_key;        // sk_test_... / sk_live_...; never logged or shown
  std::string stripe_api_base = "https://api.stripe.com";
  std::string stripe_ca_file;           // PEM bundle for a private CA ("" = system store)
  std::string stripe_webhook_secret;    // whsec_...: POST /api/payments/webhook needs it
  std::string stripe_publishable_key;   // pk_test_... / pk_live_...: the storefront's card form
  unsigned stripe_max_connections = 64; // HTTPS connections to the API at once

  // -- retention (0 = keep forever); orders themselves always stay
  unsigned event_retention_days = 30;        // outbox events live sockets resume from
  unsigned idempotency_retention_hours = 24; // Idempotency-Keys of placed orders (as Stripe)
  unsigned sale_retention_days = 30;         // stock sales (a repeated stock commit's check)
  unsigned payment_ledger_retention_days = 30; // the test-mode payment provider's ledger rows
  unsigned retention_sweep_s = 600;          // how often each shard deletes and reclaims

  // -- accounts
  std::string jwt_secret;
  std::string jwt_issuer = "emporium";
  unsigned access_token_minutes = 15;
  unsigned refresh_token_days = 7;
  std::string admin_email;
  std::string admin_password;
  bool promote_admin = false; // the admin email belongs to a customer: make it admin
  unsigned login_failures_per_minute_ip = 30;
  unsigned login_failures_per_minute_account = 5; // per client address and account
  unsigned registrations_per_minute_ip = 10;
  unsigned password_hash_queue = 64; // per pool (logins, registrations); then 503
  unsigned password_checks_per_client = 8; // queued or running at once, per client; then 429
};

struct config_error {
  std::string message; ///< names the source (file:line, variable, flag) and the key
};
using config_result = std::variant<node_config, config_error>;

/// Builds the configuration from all sources; an unknown key or malformed
/// value anywhere is an error naming the key and the source. Never throws.
config_result load_config(int argc, const char* const* argv, const char* const* envp);

/// A config file's text: `key = value` lines, `#` comments, blank lines.
/// Applies each key in order; the first problem (with `source:line`), or
/// nullopt. Never throws (the fuzzer feeds it arbitrary bytes).
std::optional<std::string> apply_config_text(node_config& cfg, std::string_view text,
                                             std::string_view source);

/// Larger config files are refused: a config is a page of text.
inline constexpr std::size_t max_config_bytes = 1 << 20;

/// `--help` text: every key with its default and meaning.
std::string config_help();

/// Real money moves: the Stripe provider with a live secret key (sk_live_,
/// rk_live_). The storefront says which, and offers no test cards then.
bool live_payments(const node_config& cfg);

} // namespace emporium
