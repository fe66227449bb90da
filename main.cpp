// The composition root: read the config, open storage, start the actors and
// the HTTP edge, serve until SIGINT/SIGTERM, then shut down in order:
// stop accepting and finish in-flight requests, drain the entities (their
// writes flush), stop the store, exit 0.
#include "actors/accounts/admin_seeder.hpp"
#include "actors/catalog/catalog_actor.hpp"
#include "actors/cluster/node_tls.hpp"
#include "actors/cluster/router.hpp"
#include "domain/shard_map.hpp"
#include "actors/order/saga_load.hpp"
#include "actors/payment/payment_actor.hpp"
#include "actors/protocol.hpp"
#include "config/node_config.hpp"
#include "support/log.hpp"
#include "config/node_logging.hpp"
#include "http/metrics_listener.hpp"
#include "http/otlp_exporter.hpp"
#include "http/request_metrics.hpp"
#include "http/actor_backend.hpp"
#include "http/api_context.hpp"
#include "http/health_probe.hpp"
#include "http/auth/credentials.hpp"
#include "http/live_hub.hpp"
#include "http/server.hpp"
#include "persistence/backup.hpp"
#include "persistence/file_modes.hpp"
#include "persistence/database.hpp"
#include "persistence/file_lock.hpp"
#include "persistence/settings.hpp"
#include "persistence/shard_files.hpp"
#include "payments/stripe_provider.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <signal.h>
#include <unistd.h>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <sodium.h>
#include <thread>
#include <variant>

extern char** environ;

namespace {

namespace fs = std::filesystem;

/// Exit codes scripts can tell apart.
enum exit_code : int { ok = 0, failure = 1, bad_config = 2, bad_storage = 3 };

struct node_system_config : caf::actor_system_config {
  explicit node_system_config(const emporium::node_config& cfg) {
    emporium::register_message_types(*this);
    if (cfg.node_port == 0)
      return;
    load<caf::io::middleman>();
    if (cfg.cluster_tls) {
      load<caf::openssl::manager>();
      // Setting any of these turns on CAF's mutual authentication:
      // SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT against the CA.
      openssl_certificate = cfg.cluster_cert;
      openssl_key = cfg.cluster_key;
      openssl_cafile = cfg.cluster_ca;
    }
    // CAF 0.17 turns both off by default: a dead peer would be noticed only
    // when TCP gives up, minutes later.
    set("middleman.heartbeat-interval",
        caf::timespan{std::chrono::milliseconds(cfg.heartbeat_ms)});
    set("middleman.connection-timeout",
        caf::timespan{std::chrono::milliseconds(cfg.peer_timeout_ms)});
    // Deserialize on the multiplexer thread instead of handing every
    // incoming message to a worker pool first: one thread hop less per
    // cross-node message, which is what a remote request's latency is made of.
    set("middleman.workers", size_t{0});
  }
};

/// The shard count is part of the data: files were hashed with it.
void check_shard_count(const emporium::node_config& cfg) {
  auto path = fs::path{cfg.data_dir} / "shards";
  std::ifstream in(path);
  unsigned recorded = 0;
  if (in >> recorded) {
    if (recorded != cfg.shards)
      throw std::invalid_argument(fmt::format(
        "{} holds data hashed into {} shards; start with --shards {} (or a new data-dir)",
        cfg.data_dir, recorded, recorded));
    return;
  }
  std::ofstream out(path, std::ios::trunc);
  out << cfg.shards << '\n';
}

emporium::catalog_files data_files(const emporium::node_config& cfg,
                                   emporium::persistence::durability level) {
  emporium::catalog_files files{emporium::persistence::global_db_path(cfg.data_dir), {}, level};
  for (unsigned s = 0; s < cfg.shards; ++s)
    files.shard_dbs.push_back(emporium::persistence::shard_db_path(cfg.data_dir, s));
  return files;
}

/// Set when the node must not run (the configured admin email belongs to a
/// customer); main then exits with bad_config.
std::atomic<bool> refused_to_start{false};

void refuse_to_start(const std::string& why) {
  fmt::print(stderr, "emporium: {}\n", why);
  refused_to_start = true;
  ::kill(::getpid(), SIGTERM); // process-directed: main's sigwait picks it up
}

/// The configured first admin, unless none is configured.
caf::actor start_admin_seeder(caf::actor_system& sys, const caf::actor& router,
                              const emporium::node_config& cfg) {
  if (cfg.admin_email.empty() || cfg.admin_password.empty())
    return {};
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, cfg.admin_password.data(), cfg.admin_password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("cannot hash the admin password");
  emporium::user_record admin{"", cfg.admin_email, hash, "Admin", "", "admin"};
  return emporium::spawn_admin_seeder(sys, router,
                                      {admin, cfg.promote_admin, refuse_to_start});
}

template <class Handle>
void stop_actor(caf::scoped_actor& self, const Handle& a, caf::exit_reason reason) {
  self->monitor(a);
  self->send_exit(a, reason);
  self->receive([](const caf::down_msg&) {});
}

/// A value or the exit code the node stops with.
template <class T>
using or_exit = std::variant<T, int>;

/// A private data directory (0700, files 0600) and libsodium.
std::optional<int> prepare_process(const emporium::node_config& cfg) {
  emporium::persistence::private_file_creation();
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) {
    fmt::print(stderr, "emporium: cannot create data directory {}: {}\n", cfg.data_dir,
               ec.message());
    return bad_storage;
  }
  if (auto problem = emporium::persistence::restrict_to_owner(cfg.data_dir); !problem.empty()) {
    fmt::print(stderr, "emporium: cannot make the data directory private: {}\n", problem);
    return bad_storage;
  }
  if (sodium_init() < 0) {
    fmt::print(stderr, "emporium: libsodium failed to initialise\n");
    return failure;
  }
  return std::nullopt;
}

/// Migrates every database file and loads the catalog; answers the number
/// of products. Nodes of a cluster starting together take turns.
or_exit<std::size_t> prepare_storage(const emporium::node_config& cfg,
                                     const emporium::catalog_files& files,
                                     emporium::catalog_view& catalog) {
  auto turn = emporium::persistence::file_lock::acquire(
    (fs::path{cfg.data_dir} / "prepare.lock").string(), std::chrono::seconds(120));
  if (!turn) {
    fmt::print(stderr, "emporium: {}: another node holds prepare.lock for too long\n",
               cfg.data_dir);
    return bad_storage;
  }
  try {
    check_shard_count(cfg);
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_config;
  }
  std::string current = files.global_db;
  try {
    emporium::persistence::prepare_database(files.global_db, files.level);
    for (const auto& shard : files.shard_dbs) {
      current = emporium::persistence::current_file_of(shard); // a relocation's, if any
      emporium::persistence::prepare_database(current, files.level);
    }
    current = files.global_db;
    return emporium::load_catalog(files, catalog, cfg.demo_catalog);
  } catch (const emporium::persistence::store_error& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_storage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: {}: cannot load the catalog: {}\n", current, e.what());
    return bad_storage;
  }
}

/// The other members, after checking the cluster settings (and the TLS
/// files, which CAF would otherwise first read on its I/O thread).
or_exit<std::vector<emporium::cluster::seed_address>> cluster_settings(
  const emporium::node_config& cfg) {
  auto seeds = emporium::cluster::parse_seeds(cfg.seeds, cfg.bind, cfg.node_port, cfg.node_name);
  if (cfg.node_port == 0 && !seeds.empty()) {
    fmt::print(stderr, "emporium: --seeds needs --node-port (the port other nodes reach)\n");
    return bad_config;
  }
  if (cfg.node_port != 0 && cfg.cluster_tls) {
    if (auto problem = emporium::cluster::check_tls_files(
          {cfg.cluster_cert, cfg.cluster_key, cfg.cluster_ca})) {
      fmt::print(stderr, "emporium: {}\n", *problem);
      return bad_config;
    }
    emporium::cluster::audit_tls_handshakes();
  }
  return seeds;
}

/// The payment provider the config names. Stripe's is checked here (URL, CA
/// file), before anything starts, so a typo is an exit code, not a node
/// whose every order fails.
or_exit<std::shared_ptr<emporium::payment_provider>> make_payment_provider(
  const emporium::node_config& cfg, const emporium::catalog_files& files) {
  if (cfg.payment_provider != "stripe")
    return std::shared_ptr<emporium::payment_provider>{emporium::make_test_mode_provider(
      {files.global_db, std::chrono::milliseconds(cfg.payment_latency_ms),
       cfg.payment_failure_rate, 42, true,
       std::chrono::days(cfg.payment_ledger_retention_days),
       std::chrono::seconds(cfg.retention_sweep_s)})};
  try {
    emporium::payments::stripe_options opts;
    opts.http.base_url = cfg.stripe_api_base;
    opts.http.ca_file = cfg.stripe_ca_file;
    opts.http.max_connections = cfg.stripe_max_connections;
    opts.http.timeout = std::chrono::milliseconds(cfg.payment_call_timeout_ms);
    opts.secret_key = cfg.stripe_secret_key;
    opts.currency = cfg.currency;
    opts.buyer_authenticates = !cfg.stripe_publishable_key.empty();
    opts.key_prefix =
      "emporium-" + emporium::persistence::installation_id(files.global_db, files.level);
    return std::shared_ptr<emporium::payment_provider>{
      emporium::payments::make_stripe_provider(std::move(opts))};
  } catch (const emporium::persistence::store_error& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_storage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: stripe: {}\n", e.what());
    return bad_config;
  }
}

/// The node's long-lived actors and what the edge reads from them directly.
struct node_actors {
  emporium::catalog_actor catalog_writer;
  emporium::payment_actor payment;
  caf::actor router;
  std::shared_ptr<emporium::payment_health> payment_health;
  std::shared_ptr<emporium::cluster_health> cluster;
};

node_actors spawn_node_actors(caf::actor_system& sys, const emporium::node_config& cfg,
                              const emporium::catalog_files& files,
                              std::shared_ptr<emporium::catalog_view> catalog,
                              std::vector<emporium::cluster::seed_address> seeds,
                              std::shared_ptr<emporium::payment_provider> provider,
                              emporium::event_sink publish) {
  node_actors a;
  a.catalog_writer = emporium::spawn_catalog(sys, files, std::move(catalog));
  a.payment_health = std::make_shared<emporium::payment_health>();
  emporium::payment_options pay_opts;
  pay_opts.max_in_flight = cfg.payment_max_in_flight;
  pay_opts.call_timeout = std::chrono::milliseconds(cfg.payment_call_timeout_ms);
  pay_opts.breaker_threshold = static_cast<int>(cfg.payment_breaker_threshold);
  pay_opts.breaker_cooldown_ms = cfg.payment_breaker_cooldown_ms;
  // Provider calls answer as messages: nothing in the actor blocks.
  a.payment = emporium::spawn_payment(sys, std::move(provider), pay_opts, a.payment_health,
                                      emporium::spawn_mode::workers);
  emporium::saga_options saga;
  saga.reserve_ttl_ms = std::int64_t{cfg.reserve_ttl_s} * 1000;
  saga.payment_timeout_ms = cfg.payment_timeout_ms;
  saga.authentication_timeout_ms = cfg.payment_authentication_timeout_ms;
  saga.load = std::make_shared<emporium::saga_load>(cfg.max_orders_in_progress);
  emporium::router_options route_opts;
  route_opts.node_name = emporium::node_name(cfg);
  route_opts.seeds = std::move(seeds);
  route_opts.shards = cfg.shards;
  route_opts.data_dir = cfg.data_dir;
  route_opts.level = files.level;
  route_opts.directory.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
  route_opts.directory.max_resident = cfg.max_resident;
  route_opts.tls = cfg.cluster_tls;
  route_opts.accounts = {cfg.login_failures_per_minute_account, cfg.login_failures_per_minute_ip,
                         cfg.registrations_per_minute_ip};
  route_opts.peer_timeout = std::chrono::milliseconds(cfg.peer_timeout_ms);
  route_opts.retention.events_ms = std::int64_t{cfg.event_retention_days} * 24 * 3600 * 1000;
  route_opts.retention.keys_ms = std::int64_t{cfg.idempotency_retention_hours} * 3600 * 1000;
  route_opts.retention.sales_ms = std::int64_t{cfg.sale_retention_days} * 24 * 3600 * 1000;
  route_opts.retention.interval_ms = std::int64_t{cfg.retention_sweep_s} * 1000;
  a.cluster = std::make_shared<emporium::cluster_health>();
  a.router = emporium::spawn_router(sys, route_opts,
                                    {a.catalog_writer, a.payment, saga, std::move(publish)},
                                    a.cluster);
  return a;
}

/// Publishes the router on the node port (TLS unless cluster-tls is off).
bool listen_for_nodes(caf::actor_system& sys, const emporium::node_config& cfg,
                      const node_actors& a, std::size_t other_members) {
  if (cfg.node_port == 0)
    return true;
  auto published = cfg.cluster_tls
                     ? caf::openssl::publish(a.router, cfg.node_port, cfg.bind.c_str(), true)
                     : sys.middleman().publish(a.router, cfg.node_port, cfg.bind.c_str(), true);
  if (!published) {
    fmt::print(stderr, "emporium: cannot listen for nodes on {}:{}: {}\n", cfg.bind,
               cfg.node_port, sys.render(published.error()));
    return false;
  }
  emporium::log::info(
    fmt::format("node {} on {}:{} ({} shards, {} other members, {})", emporium::node_name(cfg),
                cfg.bind, cfg.node_port, cfg.shards, other_members,
                cfg.cluster_tls ? "TLS with mutual authentication"
                                : "plain TCP without authentication (cluster-tls off)"));
  return true;
}

emporium::http::server_options edge_options(const emporium::node_config& cfg, unsigned threads) {
  emporium::http::server_options opts;
  opts.bind = cfg.bind;
  opts.port = cfg.port;
  opts.threads = threads;
  opts.max_body_bytes = cfg.max_body_bytes;
  opts.max_header_bytes = cfg.max_header_bytes;
  opts.read_timeout = std::chrono::seconds(cfg.read_timeout_s);
  opts.max_connections = cfg.max_connections;
  opts.max_connections_per_client = cfg.max_connections_per_client;
  opts.requests_per_second_per_client = cfg.requests_per_second_client;
  opts.max_requests_in_flight = cfg.max_requests_in_flight;
  opts.header_timeout = std::chrono::seconds(cfg.header_timeout_s);
  opts.cors_origins = cfg.cors_origins;
  std::vector<emporium::http::cidr> proxies;
  for (const auto& net : cfg.trusted_proxies)
    if (auto parsed = emporium::http::parse_cidr(net)) // validated by the config
      proxies.push_back(*parsed);
  opts.proxies = emporium::http::trusted_proxies{std::move(proxies), cfg.client_ipv6_prefix};
  return opts;
}

/// Serves HTTP until SIGINT or SIGTERM, then finishes in-flight requests.
/// Answers the exit code; `seeder` is the admin seeder, if one started.
int serve_until_signal(caf::actor_system& sys, const emporium::node_config& cfg,
                       const node_actors& a, emporium::catalog_view& catalog,
                       emporium::http::live_hub& hub, std::size_t products,
                       const sigset_t& stop_signals, caf::actor& seeder) {
  unsigned threads =
    cfg.threads > 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  emporium::http::password_hasher hasher{2, emporium::http::hash_cost::interactive,
                                         cfg.password_hash_queue};
  auto backend = emporium::http::make_actor_backend(
    sys, {a.router, a.catalog_writer, a.payment_health, a.cluster},
    std::chrono::milliseconds(cfg.request_timeout_ms), threads);
  emporium::http::api_context ctx{*backend,
                                  catalog,
                                  {emporium::http::jwt_secret(cfg.jwt_secret, cfg.data_dir), cfg.jwt_issuer},
                                  hasher,
                                  emporium::http::auth_limits{
                                    cfg.login_failures_per_minute_ip,
                                    cfg.login_failures_per_minute_account,
                                    cfg.registrations_per_minute_ip,
                                    cfg.password_checks_per_client},
                                  cfg.access_token_minutes,
                                  cfg.refresh_token_days,
                                  cfg.static_dir,
                                  cfg.stripe_webhook_secret,
                                  {cfg.payment_provider, emporium::live_payments(cfg),
                                   cfg.stripe_publishable_key}};
  emporium::http::router routes;
  emporium::http::add_all_routes(routes, ctx);
  auto opts = edge_options(cfg, threads);
  opts.websocket = emporium::http::make_live_endpoints(ctx, hub, cfg.max_sockets_per_user);
  emporium::http::server edge{opts, routes};
  int code = ok;
  std::unique_ptr<emporium::http::metrics_listener> metrics;
  try {
    if (cfg.metrics_port != 0) {
      emporium::http::register_process_metrics();
      metrics = std::make_unique<emporium::http::metrics_listener>(cfg.metrics_bind,
                                                                   cfg.metrics_port);
    }
    seeder = start_admin_seeder(sys, a.router, cfg);
    auto port = edge.start();
    emporium::log::info(fmt::format("listening on http://{}:{} ({} products, data in {})",
                                    cfg.bind, port, products, cfg.data_dir));
    if (metrics)
      emporium::log::info(
        fmt::format("metrics on http://{}:{}/metrics", cfg.metrics_bind, metrics->port()));
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (refused_to_start)
      code = bad_config;
    else
      emporium::log::info(fmt::format("signal {} received, shutting down", signal_number));
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    code = failure;
  }
  edge.stop(std::chrono::seconds(10));
  return code;
}

/// Everything is durable once the node's actors have stopped, but the
/// actor system's teardown waits for every detached actor's thread, and
/// one stuck in a system call holds the exit. CAF 0.17's middleman dialled
/// peers with a blocking connect(2), and a dial to an address that drops
/// SYNs held it about two minutes, until a supervisor killed the process
/// (exit 137; seen in CI with podman). Peer dials now give up within 3 s,
/// their name lookups included (peer_dialer.hpp, name_lookup.hpp), but
/// nothing bounds whatever else CAF may still wait for. So from here the
/// process ends within
/// `grace` whatever the teardown still waits for, and says so.
void end_within(std::chrono::seconds grace, int code) {
  std::thread([grace, code] {
    std::this_thread::sleep_for(grace);
    emporium::log::warn("exit_forced",
                        {{"after_s", std::to_string(grace.count())},
                         {"why", "the actor system's teardown is still waiting (a thread "
                                 "of CAF's is stuck)"}});
    emporium::log::flush();
    std::_Exit(code);
  }).detach();
}

/// In order: the router first (its shards drain and flush), then what the
/// sagas used.
void stop_node_actors(caf::actor_system& sys, const node_actors& a, const caf::actor& seeder) {
  caf::scoped_actor self{sys};
  if (seeder)
    caf::anon_send_exit(seeder, caf::exit_reason::user_shutdown);
  stop_actor(self, a.router, caf::exit_reason::user_shutdown);
  stop_actor(self, a.payment, caf::exit_reason::user_shutdown);
  stop_actor(self, a.catalog_writer, caf::exit_reason::user_shutdown);
}

/// The stop signals, blocked in every thread (main blocks them before it
/// starts any thread, the log writer included): a signal directed at the
/// process then waits for main's sigwait instead of killing the process
/// through a thread that never blocked it.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

/// Spans go to --otlp-endpoint when one is set (validated with the config).
std::unique_ptr<emporium::http::otlp_exporter> start_tracing(const emporium::node_config& cfg) {
  std::string why;
  auto to = emporium::otlp::parse_endpoint(cfg.otlp_endpoint, why);
  if (!to)
    return nullptr;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  return std::make_unique<emporium::http::otlp_exporter>(
    *to, emporium::otlp::attributes{{"service.name", "emporium"},
                                    {"service.instance.id", emporium::node_name(cfg)},
                                    {"host.name", host}});
}

int run(const emporium::node_config& cfg, const sigset_t& stop_signals) {
  if (auto code = prepare_process(cfg))
    return *code;
  auto level = cfg.sync_full ? emporium::persistence::durability::full
                             : emporium::persistence::durability::normal;
  auto files = data_files(cfg, level);
  auto catalog = std::make_shared<emporium::catalog_view>();
  auto products = prepare_storage(cfg, files, *catalog);
  if (auto* code = std::get_if<int>(&products))
    return *code;
  auto seeds = cluster_settings(cfg);
  if (auto* code = std::get_if<int>(&seeds))
    return *code;
  auto other_members = std::get<0>(seeds).size();
  auto provider = make_payment_provider(cfg, files);
  if (auto* code = std::get_if<int>(&provider))
    return *code;

  // Outlives the actor system: the store publishes into it until the end.
  emporium::http::live_hub hub;
  node_system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  auto actors = spawn_node_actors(
    sys, cfg, files, catalog, std::get<0>(std::move(seeds)), std::get<0>(std::move(provider)),
    [&hub](const emporium::order_event& row) { hub.publish(row); });
  if (!listen_for_nodes(sys, cfg, actors, other_members)) {
    caf::anon_send_exit(actors.router, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(actors.payment, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(actors.catalog_writer, caf::exit_reason::user_shutdown);
    return failure;
  }
  caf::actor seeder;
  int code = serve_until_signal(sys, cfg, actors, *catalog, hub, std::get<0>(products),
                                stop_signals, seeder);
  stop_node_actors(sys, actors, seeder);
  end_within(std::chrono::seconds(10), code);
  if (code == ok)
    emporium::log::info("stopped cleanly",
                        {{"log_lines_dropped", std::to_string(emporium::log::dropped())}});
  return code;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::string_view{argv[1]} == "backup" || std::string_view{argv[1]} == "restore"))
    return emporium::persistence::run_backup_command(argc, argv);
  if (argc > 1 && std::string_view{argv[1]} == "healthcheck")
    return emporium::http::run_health_probe(argc, argv);
  auto stop_signals = block_stop_signals();
  emporium::node_config cfg;
  try {
    for (int i = 1; i < argc; ++i)
      if (std::string_view{argv[i]} == "--help") {
        fmt::print("{}", emporium::config_help());
        return ok;
      }
    auto loaded = emporium::load_config(argc, argv, environ);
    if (auto* error = std::get_if<emporium::config_error>(&loaded)) {
      fmt::print(stderr, "emporium: {}\n", error->message);
      return bad_config;
    }
    cfg = std::get<emporium::node_config>(std::move(loaded));
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_config;
  }
  emporium::configure_logging(cfg);
  emporium::http::set_slow_request_threshold(cfg.slow_request_ms / 1000.0);
  auto tracing = start_tracing(cfg);
  auto code = run(cfg, stop_signals);
  tracing.reset(); // after the actors: their last spans go out too
  emporium::log::flush();
  return code;
}
