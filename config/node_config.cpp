// Reading node_config from file, environment and flags (see node_config.hpp).
#include "config/node_config.hpp"

#include "support/otlp.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <optional>
#include <string_view>

namespace emporium {

namespace {

struct option {
  std::string_view key;
  std::string_view help;
  std::function<bool(node_config&, std::string_view)> set;
  bool is_flag = false; // `--key` alone means true
};

template <class Int>
std::function<bool(node_config&, std::string_view)> number(Int node_config::*field,
                                                           Int min, Int max) {
  return [=](node_config& cfg, std::string_view text) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
      return false;
    cfg.*field = value;
    return true;
  };
}

std::function<bool(node_config&, std::string_view)> text(std::string node_config::*field) {
  return [=](node_config& cfg, std::string_view value) {
    cfg.*field = std::string{value};
    return true;
  };
}

std::function<bool(node_config&, std::string_view)> flag(bool node_config::*field) {
  return [=](node_config& cfg, std::string_view value) {
    if (value == "true" || value == "1" || value == "yes" || value == "on")
      cfg.*field = true;
    else if (value == "false" || value == "0" || value == "no" || value == "off")
      cfg.*field = false;
    else
      return false;
    return true;
  };
}

std::function<bool(node_config&, std::string_view)> ratio(double node_config::*field) {
  return [=](node_config& cfg, std::string_view text) {
    std::string copy{text};
    char* end = nullptr;
    double value = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size() || !(value >= 0.0 && value <= 1.0))
      return false;
    cfg.*field = value;
    return true;
  };
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      out.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

/// pk_test_ or pk_live_ and then letters and digits only: the key is
/// written into a JSON answer and handed to Stripe.js, so nothing else is
/// let through.
bool is_publishable_key(std::string_view v) {
  auto rest = v.substr(std::min<std::size_t>(v.size(), 8));
  return (v.starts_with("pk_test_") || v.starts_with("pk_live_")) && !rest.empty() &&
         rest.size() <= 240 && std::all_of(rest.begin(), rest.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) != 0;
         });
}

/// "live" or "test" for a Stripe key of a known kind (secret sk_, restricted
/// rk_, publishable pk_), "" for any other text.
std::string_view stripe_key_mode(std::string_view key) {
  for (auto kind : {"sk_", "rk_", "pk_"})
    for (std::string_view mode : {"live", "test"})
      if (key.starts_with(kind) && key.substr(3).starts_with(mode) &&
          key.substr(3 + mode.size()).starts_with("_"))
        return mode;
  return "";
}

/// A publishable key is only of use to the Stripe provider, and only in the
/// secret key's mode: a card Stripe.js makes with a test key cannot be
/// charged with a live key, nor the other way round.
std::optional<std::string> check_publishable_key(const node_config& cfg) {
  if (cfg.stripe_publishable_key.empty())
    return std::nullopt;
  if (cfg.payment_provider != "stripe")
    return "stripe-publishable-key needs payment-provider stripe";
  auto secret = stripe_key_mode(cfg.stripe_secret_key);
  auto publishable = stripe_key_mode(cfg.stripe_publishable_key);
  if (!secret.empty() && secret != publishable)
    return fmt::format("stripe-publishable-key is a {} key but stripe-secret-key is a {} key: "
                       "a card made in one mode cannot be charged in the other",
                       publishable, secret);
  return std::nullopt;
}

/// a.b.c.d[/n] or an IPv6 address[/n]; the edge parses it again (the config
/// layer sits below the edge and does not link it).
bool valid_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto address = std::string{text.substr(0, slash)};
  bool v6 = address.find(':') != std::string::npos;
  unsigned char buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), buf) != 1)
    return false;
  if (slash == std::string_view::npos)
    return true;
  unsigned prefix = 0;
  auto digits = text.substr(slash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  return !digits.empty() && ec == std::errc{} && end == digits.data() + digits.size() &&
         prefix <= (v6 ? 128u : 32u);
}

const std::vector<option>& options() {
  using c = node_config;
  static const std::vector<option> all = {
    {"bind", "address the HTTP edge listens on", text(&c::bind)},
    {"port", "HTTP port", number<std::uint16_t>(&c::port, 0, 65535)},
    {"data-dir", "directory holding the SQLite database and the JWT secret",
     text(&c::data_dir)},
    {"config", "configuration file to read", text(&c::config_file)},
    {"sync-full", "SQLite synchronous=FULL: survive power loss, slower writes",
     flag(&c::sync_full), true},
    {"demo-catalog", "seed a demo catalog into an empty database", flag(&c::demo_catalog), true},
    {"threads", "HTTP I/O threads (0 = one per core)", number<unsigned>(&c::threads, 0, 256)},
    {"metrics-port", "port of GET /metrics in the Prometheus text format (0 = off)",
     number<std::uint16_t>(&c::metrics_port, 0, 65535)},
    {"metrics-bind", "address the metrics listener binds to", text(&c::metrics_bind)},
    {"log-format", "json (one object per line) or text",
     [](c& cfg, std::string_view v) {
       cfg.log_format = std::string{v};
       return v == "json" || v == "text";
     }},
    {"log-level", "debug (every request), info, warn, error or off",
     [](c& cfg, std::string_view v) {
       cfg.log_level = std::string{v};
       return v == "debug" || v == "info" || v == "warn" || v == "error" || v == "off";
     }},
    {"slow-request-ms", "requests slower than this are logged at warn",
     number<unsigned>(&c::slow_request_ms, 1, 3'600'000)},
    {"otlp-endpoint", "OpenTelemetry collector for traces (OTLP/HTTP JSON), http://host:port; "
                      "empty = no traces",
     [](c& cfg, std::string_view v) {
       cfg.otlp_endpoint = std::string{v};
       std::string why;
       return v.empty() || otlp::parse_endpoint(v, why).has_value();
     }},
    {"node-name", "this node's name in the cluster (default bind:node-port)",
     text(&c::node_name)},
    {"node-port", "port other nodes connect to (0 = single node, no cluster)",
     number<std::uint16_t>(&c::node_port, 0, 65535)},
    {"seeds", "comma-separated host:port of the cluster's members ([v6 address]:port)",
     [](c& cfg, std::string_view v) {
       cfg.seeds = split_list(v);
       for (const auto& s : cfg.seeds) {
         auto colon = s.rfind(':');
         if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() ||
             s.find_first_not_of("0123456789", colon + 1) != std::string::npos)
           return false;
       }
       return true;
     }},
    {"cluster-tls",
     "on: nodes talk TLS and admit only peers whose certificate chains to cluster-ca "
     "(default); off: plain TCP without authentication, where any process that reaches "
     "node-port can join the cluster and send it messages (a trusted private network only)",
     flag(&c::cluster_tls)},
    {"cluster-cert", "this node's certificate (PEM, signed by cluster-ca; scripts/cluster-certs "
     "makes one)", text(&c::cluster_cert)},
    {"cluster-key", "this node's private key (PEM, unencrypted)", text(&c::cluster_key)},
    {"cluster-ca", "the cluster CA's certificate (PEM): peers must present a certificate it signed",
     text(&c::cluster_ca)},
    {"shards", "number of shards entities hash into (fixed per data directory)",
     number<unsigned>(&c::shards, 1, 1024)},
    {"heartbeat-ms", "interval of heartbeats between nodes",
     number<unsigned>(&c::heartbeat_ms, 50, 60'000)},
    {"peer-timeout-ms", "a node silent this long is considered down",
     number<unsigned>(&c::peer_timeout_ms, 100, 600'000)},
    {"idle-timeout", "seconds before an unused entity is passivated (0 = never)",
     number<unsigned>(&c::idle_timeout_s, 0, 86400)},
    {"max-resident", "entities kept in memory per node before the LRU is passivated",
     number<std::uint64_t>(&c::max_resident, 1, 100'000'000)},
    {"static-dir", "directory of the storefront's built files", text(&c::static_dir)},
    {"cors-origins", "comma-separated origins allowed by CORS",
     [](c& cfg, std::string_view v) {
       cfg.cors_origins = split_list(v);
       return true;
     }},
    {"trusted-proxies",
     "comma-separated CIDRs of proxies in front of the node (their X-Forwarded-For "
     "names the client; empty = clients connect directly)",
     [](c& cfg, std::string_view v) {
       cfg.trusted_proxies = split_list(v);
       for (const auto& net : cfg.trusted_proxies)
         if (!valid_cidr(net))
           return false;
       return true;
     }},
    {"client-ipv6-prefix",
     "bits of an IPv6 client's address that per-client limits count it by (64: a "
     "subscriber's /64 is one client, however many addresses it uses)",
     number<unsigned>(&c::client_ipv6_prefix, 32, 128)},
    {"max-body-bytes", "largest request body accepted (413 above)",
     number<std::uint64_t>(&c::max_body_bytes, 1, 1ull << 30)},
    {"max-header-bytes", "largest request header accepted (431 above)",
     number<std::uint64_t>(&c::max_header_bytes, 512, 1 << 20)},
    {"read-timeout", "seconds a client may take to send a request or stay idle",
     number<unsigned>(&c::read_timeout_s, 1, 3600)},
    {"max-connections", "open HTTP connections accepted at once",
     number<unsigned>(&c::max_connections, 1, 1'000'000)},
    {"max-connections-per-client",
     "open connections one client address may hold (429 beyond; trusted proxies exempt)",
     number<unsigned>(&c::max_connections_per_client, 1, 1'000'000)},
    {"requests-per-second-client",
     "HTTP requests one client address may make per second, in bursts of twice that (429 "
     "with Retry-After beyond; the API and live sockets count, health probes and static files "
     "do not); 0 = no limit",
     number<unsigned>(&c::requests_per_second_client, 0, 1'000'000)},
    {"max-requests-in-flight",
     "HTTP requests the node holds at once, read and not yet answered (503 with Retry-After "
     "beyond; counted like requests-per-second-client); 0 = no limit",
     number<unsigned>(&c::max_requests_in_flight, 0, 10'000'000)},
    {"max-sockets-per-user", "live sockets (/ws and /notificationHub) one user may hold",
     number<unsigned>(&c::max_sockets_per_user, 1, 100'000)},
    {"header-timeout", "seconds a connection may take to send a complete request head",
     number<unsigned>(&c::header_timeout_s, 1, 3600)},
    {"request-timeout-ms", "how long the edge waits for an actor (then 504)",
     number<unsigned>(&c::request_timeout_ms, 10, 600'000)},
    {"reserve-ttl", "seconds an order's stock reservation lasts before it expires",
     number<unsigned>(&c::reserve_ttl_s, 1, 86400)},
    {"max-orders-in-progress",
     "orders a node works on at once (placed, not yet Confirmed or Cancelled, not waiting "
     "for the buyer's 3-D Secure); a placement beyond it is refused with 503 and Retry-After "
     "before anything is written, instead of slowing every order down; 0 = no bound",
     number<unsigned>(&c::max_orders_in_progress, 0, 10'000'000)},
    {"payment-timeout-ms", "an order whose payment has not answered by then is cancelled",
     number<unsigned>(&c::payment_timeout_ms, 100, 3'600'000)},
    {"payment-authentication-timeout-ms",
     "a card that asks for 3-D Secure (Stripe, with a publishable key): the buyer must pass "
     "it by then, or the order is cancelled; with payment-timeout-ms, within reserve-ttl",
     number<unsigned>(&c::payment_authentication_timeout_ms, 1'000, 3'600'000)},
    {"payment-latency-ms", "simulated latency of the built-in test-mode payment provider",
     number<unsigned>(&c::payment_latency_ms, 0, 600'000)},
    {"payment-max-in-flight", "payment provider calls at once; more wait in a queue",
     number<unsigned>(&c::payment_max_in_flight, 1, 100'000)},
    {"payment-call-timeout-ms", "one provider call unanswered by then is retried (same key)",
     number<unsigned>(&c::payment_call_timeout_ms, 10, 600'000)},
    {"payment-failure-rate", "share (0..1) of test-mode provider calls failing transiently",
     ratio(&c::payment_failure_rate)},
    {"payment-breaker-threshold", "consecutive transient failures that open the breaker",
     number<unsigned>(&c::payment_breaker_threshold, 1, 1000)},
    {"payment-breaker-cooldown-ms", "how long the open breaker fails fast before a probe",
     number<unsigned>(&c::payment_breaker_cooldown_ms, 10, 3'600'000)},
    {"payment-provider", "test (built in, behaves like Stripe's test mode) or stripe",
     [](c& cfg, std::string_view v) {
       cfg.payment_provider = std::string{v};
       return v == "test" || v == "stripe";
     }},
    {"currency", "ISO currency of every charge, lower case (usd, eur...)",
     [](c& cfg, std::string_view v) {
       cfg.currency = std::string{v};
       return v.size() == 3 && std::all_of(v.begin(), v.end(), [](char ch) {
                return ch >= 'a' && ch <= 'z';
              });
     }},
    {"stripe-secret-key", "Stripe secret key (sk_test_... or sk_live_...); never logged",
     text(&c::stripe_secret_key)},
    {"stripe-api-base", "Stripe API base URL (https only)",
     [](c& cfg, std::string_view v) {
       cfg.stripe_api_base = std::string{v};
       return v.substr(0, 8) == "https://" && v.size() > 8;
     }},
    {"stripe-ca-file", "PEM CA bundle the Stripe API's certificate must chain to "
                       "(default: the system's store)",
     text(&c::stripe_ca_file)},
    {"stripe-webhook-secret",
     "signing secret (whsec_...) of the webhook endpoint POST /api/payments/webhook; "
     "empty = the endpoint answers 404",
     text(&c::stripe_webhook_secret)},
    {"stripe-publishable-key",
     "Stripe publishable key (pk_test_... or pk_live_..., of the secret key's mode): the "
     "storefront takes cards with Stripe Elements; empty = it offers Stripe's test cards",
     [](c& cfg, std::string_view v) {
       cfg.stripe_publishable_key = std::string{v};
       return v.empty() || is_publishable_key(v);
     }},
    {"stripe-max-connections", "HTTPS connections to the Stripe API at once",
     number<unsigned>(&c::stripe_max_connections, 1, 10'000)},
    {"event-retention-days",
     "days order events are kept for live sockets to resume from; a socket resuming from "
     "an older one is told to reload (0 = keep forever)",
     number<unsigned>(&c::event_retention_days, 0, 36'500)},
    {"idempotency-retention-hours",
     "hours an order's Idempotency-Key is remembered; a retry after that is a new order "
     "(0 = forever)",
     number<unsigned>(&c::idempotency_retention_hours, 0, 876'000)},
    {"sale-retention-days",
     "days a stock sale is remembered so that a saga repeating its commit after a crash is "
     "not sold twice (sagas end within --reserve-ttl; 0 = forever)",
     number<unsigned>(&c::sale_retention_days, 0, 36'500)},
    {"payment-ledger-retention-days",
     "days the test-mode payment provider remembers a charge, refund or void (only the "
     "order's saga asks again, within --reserve-ttl; 0 = forever)",
     number<unsigned>(&c::payment_ledger_retention_days, 0, 36'500)},
    {"retention-sweep-seconds",
     "how often each shard (and the test-mode payment ledger) deletes what retention says is "
     "old and gives the space back",
     number<unsigned>(&c::retention_sweep_s, 1, 86'400)},
    {"jwt-secret", "HS256 signing secret (default: random, kept in data-dir)",
     text(&c::jwt_secret)},
    {"jwt-issuer", "the iss claim of issued tokens", text(&c::jwt_issuer)},
    {"access-token-minutes", "access token lifetime",
     number<unsigned>(&c::access_token_minutes, 1, 10080)},
    {"refresh-token-days", "refresh token lifetime",
     number<unsigned>(&c::refresh_token_days, 1, 365)},
    {"admin-email", "email of the first admin account (created at start)",
     text(&c::admin_email)},
    {"admin-password", "password of the first admin account", text(&c::admin_password)},
    {"promote-admin",
     "if admin-email belongs to an existing non-admin account, make it admin (without this "
     "flag the node refuses to start, exit 2)",
     flag(&c::promote_admin), true},
    {"login-failures-per-minute-ip",
     "failed logins allowed per client address per minute, on any accounts (counted once for "
     "the whole cluster)",
     number<unsigned>(&c::login_failures_per_minute_ip, 1, 100'000)},
    {"login-failures-per-minute-account",
     "failed logins allowed per client address and account per minute, counted at the "
     "account's shard (once for a whole cluster); past it, logins of that account from any "
     "address are slowed down (never refused)",
     number<unsigned>(&c::login_failures_per_minute_account, 1, 100'000)},
    {"password-hash-queue",
     "password checks waiting or running per pool (logins and registrations have their own); "
     "beyond it 503 + Retry-After",
     number<unsigned>(&c::password_hash_queue, 1, 100'000)},
    {"password-checks-per-client",
     "password checks (logins) and hashes (registrations) one client may have queued or "
     "running at once; beyond it 429 + Retry-After, so one client cannot fill the shared queues",
     number<unsigned>(&c::password_checks_per_client, 1, 100'000)},
    {"registrations-per-minute-ip",
     "registrations allowed per client address per minute (counted once for the whole cluster)",
     number<unsigned>(&c::registrations_per_minute_ip, 1, 100'000)},
  };
  return all;
}

const option* find_option(std::string_view key) {
  for (const auto& opt : options())
    if (opt.key == key)
      return &opt;
  return nullptr;
}

/// Sets one key; the problem as text, or nullopt.
std::optional<std::string> apply(node_config& cfg, std::string_view key, std::string_view value,
                                 std::string_view source) {
  auto opt = find_option(key);
  if (opt == nullptr)
    return fmt::format("{}: unknown option '{}'", source, key);
  if (!opt->set(cfg, value))
    return fmt::format("{}: invalid value '{}' for '{}' ({})", source, value, key, opt->help);
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string env_name(std::string_view key) {
  std::string name = "EMPORIUM_";
  for (char ch : key)
    name += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return name;
}

} // namespace

std::optional<std::string> apply_config_text(node_config& cfg, std::string_view text,
                                             std::string_view source) {
  if (text.find('\0') != std::string_view::npos)
    return fmt::format("{}: not a text file (NUL byte)", source);
  int n = 0;
  while (!text.empty()) {
    ++n;
    auto newline = text.find('\n');
    auto line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    auto body = trim(line.substr(0, line.find('#')));
    if (body.empty())
      continue;
    auto eq = body.find('=');
    if (eq == std::string_view::npos)
      return fmt::format("{}:{}: expected 'key = value'", source, n);
    auto value = trim(body.substr(eq + 1));
    if (value.empty())
      continue; // `key =` documents a key without setting it
    if (auto error = apply(cfg, trim(body.substr(0, eq)), value, fmt::format("{}:{}", source, n)))
      return error;
  }
  return std::nullopt;
}

namespace {

std::optional<std::string> read_file(node_config& cfg, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fmt::format("cannot read config file '{}'", path);
  std::string text;
  char chunk[4096];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_config_bytes)
      return fmt::format("{}: larger than {} bytes", path, max_config_bytes);
  }
  return apply_config_text(cfg, text, path);
}

} // namespace

config_result load_config(int argc, const char* const* argv, const char* const* envp) {
  // Flags first into a list, so the config file they name is read before
  // environment and flags are applied on top of it.
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--")
      return config_error{fmt::format("unexpected argument '{}'", arg)};
    arg.remove_prefix(2);
    auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      flags.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
      continue;
    }
    auto opt = find_option(arg);
    bool is_flag = opt != nullptr && opt->is_flag;
    if (is_flag || i + 1 >= argc)
      flags.emplace_back(arg, is_flag ? "true" : "");
    else
      flags.emplace_back(arg, argv[++i]);
  }
  std::vector<std::pair<std::string, std::string>> env;
  for (auto e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry = *e;
    auto eq = entry.find('=');
    if (entry.substr(0, 9) == "EMPORIUM_" && eq != std::string_view::npos)
      env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }

  node_config cfg;
  std::string file;
  for (const auto& [name, value] : env)
    if (name == "EMPORIUM_CONFIG")
      file = value;
  for (const auto& [key, value] : flags)
    if (key == "config")
      file = value;
  if (!file.empty())
    if (auto error = read_file(cfg, file))
      return config_error{std::move(*error)};
  for (const auto& [name, value] : env) {
    auto opt = std::find_if(options().begin(), options().end(),
                            [&](const option& o) { return env_name(o.key) == name; });
    if (opt == options().end())
      continue; // EMPORIUM_* variables of scripts and tests are not ours to refuse
    if (auto error = apply(cfg, opt->key, value, "environment " + name))
      return config_error{std::move(*error)};
  }
  for (const auto& [key, value] : flags)
    if (auto error = apply(cfg, key, value, "flag --" + key))
      return config_error{std::move(*error)};
  cfg.config_file = file;
  if (cfg.payment_provider == "stripe" && cfg.stripe_secret_key.empty())
    return config_error{"payment-provider stripe needs stripe-secret-key "
                        "(or EMPORIUM_STRIPE_SECRET_KEY)"};
  if (auto error = check_publishable_key(cfg))
    return config_error{std::move(*error)};
  // The order's units stay reserved through the charge and the buyer's
  // authentication, and the commit after them needs its time too.
  if (std::uint64_t{cfg.payment_timeout_ms} + cfg.payment_authentication_timeout_ms +
        30'000 > std::uint64_t{cfg.reserve_ttl_s} * 1000)
    return config_error{"payment-timeout-ms + payment-authentication-timeout-ms + 30 s must "
                        "fit in reserve-ttl: the stock is held for the order meanwhile"};
  return cfg;
}

bool live_payments(const node_config& cfg) {
  return cfg.payment_provider == "stripe" && stripe_key_mode(cfg.stripe_secret_key) == "live";
}

std::string config_help() {
  std::string out = "usage: emporium [--key value | --key=value | --flag] ...\n";
  for (const auto& opt : options())
    out += fmt::format("  --{:<36} {} (env {})\n", opt.key, opt.help, env_name(opt.key));
  return out;
}

} // namespace emporium
