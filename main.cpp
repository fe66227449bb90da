// The composition root: read the config, open storage, start the actors and
// the HTTP edge, serve until SIGINT/SIGTERM, then shut down in order:
// stop accepting and finish in-flight requests, drain the entities (their
// writes flush), stop the store, exit 0.
#include "actors/catalog/catalog_actor.hpp"
#include "actors/cluster/node_tls.hpp"
#include "actors/cluster/router.hpp"
#include "actors/cluster/shard_map.hpp"
#include "actors/payment/payment_actor.hpp"
#include "actors/protocol.hpp"
#include "config/node_config.hpp"
#include "http/actor_backend.hpp"
#include "http/api_context.hpp"
#include "http/auth/credentials.hpp"
#include "http/live_hub.hpp"
#include "http/server.hpp"
#include "persistence/file_modes.hpp"
#include "persistence/database.hpp"
#include "persistence/file_lock.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <atomic>
#include <csignal>
#include <signal.h>
#include <unistd.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sodium.h>
#include <thread>

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

std::string node_name(const emporium::node_config& cfg) {
  if (!cfg.node_name.empty())
    return cfg.node_name;
  return cfg.node_port == 0 ? "local" : fmt::format("{}:{}", cfg.bind, cfg.node_port);
}

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

/// The configured secret, or the one kept in the data directory (created
/// with owner-only permissions on first start).
std::string jwt_secret(const emporium::node_config& cfg) {
  if (!cfg.jwt_secret.empty())
    return cfg.jwt_secret;
  auto path = fs::path{cfg.data_dir} / "jwt.secret";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32)
    return secret;
  secret = emporium::http::random_token(48);
  {
    std::ofstream out(path, std::ios::trunc);
    out << secret << '\n';
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return secret;
}

/// Set when the node must not run (the configured admin email belongs to a
/// customer); main then exits with bad_config.
std::atomic<bool> refused_to_start{false};

void refuse_to_start(const std::string& why) {
  fmt::print(stderr, "emporium: {}\n", why);
  refused_to_start = true;
  ::kill(::getpid(), SIGTERM); // process-directed: main's sigwait picks it up
}

/// Creates the configured first admin unless that email already exists.
/// Its shard may not be open yet (a cluster forming, no majority): the
/// seeder asks again every second until the account exists. If the email
/// belongs to a customer (someone registered it first), the node refuses
/// to run, or with --promote-admin gives that account the admin role.
caf::behavior admin_seeder(caf::event_based_actor* self, caf::actor router,
                           emporium::user_record admin, std::uint32_t shard, bool promote) {
  using namespace emporium;
  auto ask = [=](auto... xs) {
    return self->request(router, std::chrono::seconds(5), atoms::accounts_call::value, shard,
                         caf::make_message(xs...));
  };
  auto retry = [=] { self->delayed_send(self, std::chrono::seconds(1), atoms::tick::value); };
  self->send(self, atoms::tick::value);
  return {
    [=](atoms::tick) {
      ask(atoms::register_user::value, admin)
        .then(
          [=](const user_record&) {
            fmt::print("emporium: admin {} created\n", admin.email);
            std::fflush(stdout);
            self->quit();
          },
          [=](const caf::error& err) {
            if (to_errc(err) != errc::conflict)
              return retry();
            self->send(self, atoms::find_email::value); // it exists: whose is it?
          });
    },
    [=](atoms::find_email) {
      ask(atoms::find_email::value, admin.email)
        .then(
          [=](const user_record& existing) {
            if (existing.role == "admin")
              return self->quit();
            if (!promote) {
              refuse_to_start(fmt::format(
                "admin-email {} belongs to an existing non-admin account (registered by "
                "someone else first?); refusing to start. If that account is yours, start "
                "once with --promote-admin; otherwise choose another admin-email",
                admin.email));
              return self->quit();
            }
            ask(atoms::promote::value, admin.email)
              .then(
                [=](const user_record&) {
                  fmt::print("emporium: account {} promoted to admin (--promote-admin)\n",
                             admin.email);
                  std::fflush(stdout);
                  self->quit();
                },
                [=](const caf::error&) { retry(); });
          },
          [=](const caf::error&) { retry(); });
    },
  };
}

caf::actor ensure_admin(caf::actor_system& sys, const caf::actor& router,
                        const emporium::node_config& cfg) {
  if (cfg.admin_email.empty() || cfg.admin_password.empty())
    return {};
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, cfg.admin_password.data(), cfg.admin_password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("cannot hash the admin password");
  emporium::user_record admin{emporium::http::new_user_id_for(cfg.admin_email, cfg.shards),
                              cfg.admin_email, hash, "Admin", "", "admin"};
  return sys.spawn(admin_seeder, router, admin,
                   emporium::cluster::shard_of_email(cfg.admin_email, cfg.shards),
                   cfg.promote_admin);
}

void stop_actor(caf::scoped_actor& self, const caf::actor& a, caf::exit_reason reason) {
  self->monitor(a);
  self->send_exit(a, reason);
  self->receive([](const caf::down_msg&) {});
}

int run(const emporium::node_config& cfg) {
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
  auto level = cfg.sync_full ? emporium::persistence::durability::full
                             : emporium::persistence::durability::normal;
  auto files = data_files(cfg, level);
  auto catalog = std::make_shared<emporium::catalog_view>();
  std::size_t products = 0;
  {
    // Nodes of a cluster starting together take turns to migrate the files
    // and seed the demo catalog.
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
      emporium::persistence::prepare_database(files.global_db, level);
      for (const auto& shard : files.shard_dbs) {
        current = shard;
        emporium::persistence::prepare_database(shard, level);
      }
      current = files.global_db;
      products = emporium::load_catalog(files, *catalog, cfg.demo_catalog);
    } catch (const emporium::persistence::store_error& e) {
      fmt::print(stderr, "emporium: {}\n", e.what());
      return bad_storage;
    } catch (const std::exception& e) {
      fmt::print(stderr, "emporium: {}: cannot load the catalog: {}\n", current, e.what());
      return bad_storage;
    }
  }
  auto seeds = emporium::cluster::parse_seeds(cfg.seeds, cfg.bind, cfg.node_port);
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

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Outlives the actor system: the store publishes into it until the end.
  emporium::http::live_hub hub;
  emporium::event_sink publish = [&hub](const emporium::persistence::outbox_row& row) {
    hub.publish(row);
  };

  node_system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  auto catalog_writer = emporium::spawn_catalog(sys, files, catalog);
  auto payment_health = std::make_shared<emporium::payment_health>();
  emporium::payment_options pay_opts;
  pay_opts.breaker_threshold = static_cast<int>(cfg.payment_breaker_threshold);
  pay_opts.breaker_cooldown_ms = cfg.payment_breaker_cooldown_ms;
  auto payment = emporium::spawn_payment(
    sys,
    emporium::make_test_mode_provider({files.global_db, std::chrono::milliseconds(cfg.payment_latency_ms),
                                       cfg.payment_failure_rate, 42}),
    pay_opts, payment_health, true);
  emporium::directory_options dir_opts;
  dir_opts.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
  dir_opts.max_resident = cfg.max_resident;
  emporium::saga_options saga;
  saga.reserve_ttl_ms = std::int64_t{cfg.reserve_ttl_s} * 1000;
  saga.payment_timeout_ms = cfg.payment_timeout_ms;
  emporium::router_options route_opts;
  route_opts.node_name = node_name(cfg);
  route_opts.seeds = seeds;
  route_opts.shards = cfg.shards;
  route_opts.data_dir = cfg.data_dir;
  route_opts.level = level;
  route_opts.directory = dir_opts;
  route_opts.tls = cfg.cluster_tls;
  auto cluster = std::make_shared<emporium::cluster_health>();
  auto router = emporium::spawn_router(sys, route_opts, {catalog_writer, payment, saga, publish},
                                       cluster);
  if (cfg.node_port != 0) {
    auto published = cfg.cluster_tls
                       ? caf::openssl::publish(router, cfg.node_port, cfg.bind.c_str(), true)
                       : sys.middleman().publish(router, cfg.node_port, cfg.bind.c_str(), true);
    if (!published) {
      fmt::print(stderr, "emporium: cannot listen for nodes on {}:{}: {}\n", cfg.bind,
                 cfg.node_port, sys.render(published.error()));
      caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(payment, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(catalog_writer, caf::exit_reason::user_shutdown);
      return failure;
    }
    fmt::print("emporium: node {} on {}:{} ({} shards, {} other members, {})\n",
               route_opts.node_name, cfg.bind, cfg.node_port, cfg.shards, seeds.size(),
               cfg.cluster_tls ? "TLS with mutual authentication"
                               : "plain TCP without authentication (cluster-tls off)");
  }

  int code = ok;
  caf::actor seeder;
  {
    unsigned threads = cfg.threads > 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
    emporium::http::password_hasher hasher{2, emporium::http::hash_cost::interactive,
                                           cfg.password_hash_queue};
    auto backend = emporium::http::make_actor_backend(
      sys, {router, catalog_writer, payment_health, cluster, cfg.shards},
      std::chrono::milliseconds(cfg.request_timeout_ms), threads);
    emporium::http::api_context ctx{*backend,
                                    *catalog,
                                    {jwt_secret(cfg), cfg.jwt_issuer},
                                    hasher,
                                    emporium::http::auth_limits{cfg.login_failures_per_minute_ip,
                                                                cfg.login_failures_per_minute_account,
                                                                cfg.registrations_per_minute_ip},
                                    cfg.access_token_minutes,
                                    cfg.refresh_token_days,
                                    cfg.static_dir};
    emporium::http::router routes;
    emporium::http::add_all_routes(routes, ctx);
    emporium::http::server_options opts;
    opts.bind = cfg.bind;
    opts.port = cfg.port;
    opts.threads = threads;
    opts.max_body_bytes = cfg.max_body_bytes;
    opts.max_header_bytes = cfg.max_header_bytes;
    opts.read_timeout = std::chrono::seconds(cfg.read_timeout_s);
    opts.max_connections = cfg.max_connections;
    opts.max_connections_per_client = cfg.max_connections_per_client;
    opts.header_timeout = std::chrono::seconds(cfg.header_timeout_s);
    opts.cors_origins = cfg.cors_origins;
    std::vector<emporium::http::cidr> proxies;
    for (const auto& net : cfg.trusted_proxies)
      if (auto parsed = emporium::http::parse_cidr(net)) // validated by the config
        proxies.push_back(*parsed);
    opts.proxies = emporium::http::trusted_proxies{std::move(proxies)};
    opts.websocket = emporium::http::make_live_endpoints(ctx, hub, cfg.max_sockets_per_user);
    emporium::http::server edge{opts, routes};
    try {
      seeder = ensure_admin(sys, router, cfg);
      auto port = edge.start();
      fmt::print("emporium: listening on http://{}:{} ({} products, data in {})\n", cfg.bind,
                 port, products, cfg.data_dir);
      std::fflush(stdout);
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
      if (refused_to_start)
        code = bad_config;
      else
        fmt::print("emporium: signal {} received, shutting down\n", signal_number);
    } catch (const std::exception& e) {
      fmt::print(stderr, "emporium: {}\n", e.what());
      code = failure;
    }
    edge.stop(std::chrono::seconds(10));
  }

  caf::scoped_actor self{sys};
  if (seeder)
    caf::anon_send_exit(seeder, caf::exit_reason::user_shutdown);
  stop_actor(self, router, caf::exit_reason::user_shutdown); // shards drain and flush
  stop_actor(self, payment, caf::exit_reason::user_shutdown);
  stop_actor(self, catalog_writer, caf::exit_reason::user_shutdown);
  if (code == ok)
    fmt::print("emporium: stopped cleanly\n");
  return code;
}

} // namespace

int main(int argc, char** argv) {
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
  return run(cfg);
}
