// The composition root: read the config, open storage, start the actors,
// serve until SIGINT/SIGTERM, then shut down in order.
#include "actors/directory.hpp"
#include "actors/protocol.hpp"
#include "config/node_config.hpp"
#include "persistence/database.hpp"

#include <caf/all.hpp>

#include <SQLiteCpp/Database.h>

#include <csignal>
#include <filesystem>
#include <fmt/format.h>

extern char** environ;

namespace {

/// Exit codes scripts can tell apart.
enum exit_code : int { ok = 0, bad_config = 2, bad_storage = 3 };

struct node_system_config : caf::actor_system_config {
  node_system_config() {
    emporium::register_message_types(*this);
  }
};

int run(const emporium::node_config& cfg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) {
    fmt::print(stderr, "emporium: cannot create data directory {}: {}\n", cfg.data_dir,
               ec.message());
    return bad_storage;
  }
  auto db_path = (fs::path{cfg.data_dir} / "emporium.db").string();
  auto level = cfg.sync_full ? emporium::persistence::durability::full
                             : emporium::persistence::durability::normal;
  try {
    emporium::persistence::open_database(db_path, level); // validates + migrates
  } catch (const emporium::persistence::store_error& e) {
    fmt::print(stderr, "emporium: {}\n", e.what());
    return bad_storage;
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  node_system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  auto store = emporium::spawn_store(sys, db_path, level, true);
  emporium::directory_options dir_opts;
  dir_opts.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
  dir_opts.max_resident = cfg.max_resident;
  auto directory = emporium::spawn_directory(sys, dir_opts, {store, {}, {}});

  fmt::print("emporium: node up, data in {} (schema v{})\n", db_path,
             emporium::persistence::current_schema_version());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fmt::print("emporium: signal {} received, shutting down\n", signal_number);

  caf::scoped_actor self{sys};
  self->monitor(directory);
  self->send_exit(directory, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  self->monitor(store);
  self->send_exit(store, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  fmt::print("emporium: stopped cleanly\n");
  return ok;
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
