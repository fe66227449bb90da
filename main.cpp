// The composition root: read the config, open storage, start the actors and
// the HTTP edge, serve until SIGINT/SIGTERM, then shut down in order:
// stop accepting and finish in-flight requests, drain the entities (their
// writes flush), stop the store, exit 0.
#include "actors/accounts/accounts_actor.hpp"
#include "actors/catalog/catalog_actor.hpp"
#include "actors/directory.hpp"
#include "actors/order/order_index_actor.hpp"
#include "actors/payment/payment_actor.hpp"
#include "actors/protocol.hpp"
#include "config/node_config.hpp"
#include "http/actor_backend.hpp"
#include "http/api_context.hpp"
#include "http/auth/credentials.hpp"
#include "http/live_hub.hpp"
#include "http/server.hpp"
#include "persistence/database.hpp"

#include <caf/all.hpp>


#include <csignal>
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
  node_system_config() {
    emporium::register_message_types(*this);
  }
};

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

/// Creates the configured first admin unless that email already exists.
void ensure_admin(caf::actor_system& sys, const caf::actor& accounts,
                  const emporium::node_config& cfg) {
  if (cfg.admin_email.empty() || cfg.admin_password.empty())
    return;
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, cfg.admin_password.data(), cfg.admin_password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("cannot hash the admin password");
  emporium::user_record admin{emporium::http::new_user_id(), cfg.admin_email, hash, "Admin",
                              "", "admin"};
  caf::scoped_actor self{sys};
  self->request(accounts, std::chrono::seconds(10), emporium::atoms::register_user::value,
                admin)
    .receive([&](emporium::user_record&) { fmt::print("emporium: admin {} created\n",
                                                      cfg.admin_email); },
             [&](caf::error& err) {
               if (emporium::to_errc(err) != emporium::errc::conflict)
                 throw std::runtime_error("cannot create the admin account");
             });
}

/// Every saga that was in flight when the node stopped runs to its end.
void resume_unfinished_orders(caf::actor_system& sys, const caf::actor& orders,
                              const caf::actor& directory) {
  caf::scoped_actor self{sys};
  self->request(orders, std::chrono::seconds(30), emporium::atoms::unfinished::value)
    .receive(
      [&](std::vector<std::int64_t>& ids) {
        for (auto id : ids)
          caf::anon_send(directory,
                         emporium::entity_key{emporium::entity_kind::order, std::to_string(id)},
                         caf::make_message(emporium::atoms::start::value));
        if (!ids.empty())
          fmt::print("emporium: resuming {} unfinished orders\n", ids.size());
      },
      [&](caf::error&) { throw std::runtime_error("cannot list unfinished orders"); });
}

void stop_actor(caf::scoped_actor& self, const caf::actor& a, caf::exit_reason reason) {
  self->monitor(a);
  self->send_exit(a, reason);
  self->receive([](const caf::down_msg&) {});
}

int run(const emporium::node_config& cfg) {
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) {
    fmt::print(stderr, "emporium: cannot create data directory {}: {}\n", cfg.data_dir,
               ec.message());
    return bad_storage;
  }
  if (sodium_init() < 0) {
    fmt::print(stderr, "emporium: libsodium failed to initialise\n");
    return failure;
  }
  auto db_path = (fs::path{cfg.data_dir} / "emporium.db").string();
  auto level = cfg.sync_full ? emporium::persistence::durability::full
                             : emporium::persistence::durability::normal;
  auto catalog = std::make_shared<emporium::catalog_view>();
  std::size_t products = 0;
  try {
    emporium::persistence::prepare_database(db_path, level);
    products = emporium::load_catalog(db_path, level, *catalog, cfg.demo_catalog);
  } catch (const emporium::persistence::store_error& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_storage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: {}: cannot load the catalog: {}\n", db_path, e.what());
    return bad_storage;
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

  node_system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  auto store = emporium::spawn_store(sys, db_path, level, true, publish);
  auto catalog_writer = emporium::spawn_catalog(sys, db_path, level, catalog);
  auto accounts = emporium::spawn_accounts(sys, db_path, level);
  auto payment_health = std::make_shared<emporium::payment_health>();
  emporium::payment_options pay_opts;
  pay_opts.breaker_threshold = static_cast<int>(cfg.payment_breaker_threshold);
  pay_opts.breaker_cooldown_ms = cfg.payment_breaker_cooldown_ms;
  auto payment = emporium::spawn_payment(
    sys,
    emporium::make_test_mode_provider({db_path, std::chrono::milliseconds(cfg.payment_latency_ms),
                                       cfg.payment_failure_rate, 42}),
    pay_opts, payment_health, true);
  emporium::directory_options dir_opts;
  dir_opts.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
  dir_opts.max_resident = cfg.max_resident;
  emporium::saga_options saga;
  saga.reserve_ttl_ms = std::int64_t{cfg.reserve_ttl_s} * 1000;
  saga.payment_timeout_ms = cfg.payment_timeout_ms;
  auto directory =
    emporium::spawn_directory(sys, dir_opts, {store, {}, catalog_writer, payment, saga});
  auto orders = emporium::spawn_order_index(sys, db_path, level, directory, publish);

  int code = ok;
  {
    unsigned threads = cfg.threads > 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
    emporium::http::password_hasher hasher{2};
    auto backend = emporium::http::make_actor_backend(
      sys, {directory, accounts, catalog_writer, orders, payment_health},
      std::chrono::milliseconds(cfg.request_timeout_ms), threads);
    emporium::http::api_context ctx{*backend,
                                    *catalog,
                                    {jwt_secret(cfg), cfg.jwt_issuer},
                                    hasher,
                                    emporium::http::failure_limiter{cfg.login_failures_per_minute_ip},
                                    emporium::http::failure_limiter{cfg.login_failures_per_minute_account},
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
    opts.cors_origins = cfg.cors_origins;
    opts.websocket = emporium::http::make_live_endpoints(ctx, hub);
    emporium::http::server edge{opts, routes};
    try {
      ensure_admin(sys, accounts, cfg);
      resume_unfinished_orders(sys, orders, directory);
      auto port = edge.start();
      fmt::print("emporium: listening on http://{}:{} ({} products, data in {})\n", cfg.bind,
                 port, products, db_path);
      std::fflush(stdout);
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
      fmt::print("emporium: signal {} received, shutting down\n", signal_number);
    } catch (const std::exception& e) {
      fmt::print(stderr, "emporium: {}\n", e.what());
      code = failure;
    }
    edge.stop(std::chrono::seconds(10));
  }

  caf::scoped_actor self{sys};
  stop_actor(self, orders, caf::exit_reason::user_shutdown);
  stop_actor(self, directory, caf::exit_reason::user_shutdown); // entities flush first
  stop_actor(self, payment, caf::exit_reason::user_shutdown);
  stop_actor(self, store, caf::exit_reason::user_shutdown);
  stop_actor(self, catalog_writer, caf::exit_reason::user_shutdown);
  stop_actor(self, accounts, caf::exit_reason::user_shutdown);
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
    cfg = emporium::load_config(argc, argv, environ);
  } catch (const std::exception& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_config;
  }
  return run(cfg);
}
