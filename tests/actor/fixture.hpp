// Deterministic actor-test fixture: CAF's test scheduler driven by hand under
// doctest (see ../shared/notes/toolchain.md), a real SQLite file per test,
// and `ask` to send a request through the directory and capture the answer.
#pragma once

#include "actors/directory.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/protocol.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <optional>

namespace emporium::testing {

template <class T>
struct reply_box {
  std::optional<T> value;
  std::optional<errc> error;
};

struct deterministic {
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    register_message_types(cfg);
    return cfg;
  }

  static std::string fresh_db(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / "emporium-actor-tests";
    std::filesystem::create_directories(dir);
    auto path = (dir / (name + ".db")).string();
    for (auto suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
    return path;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg)};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Directories drain their entities first, then the store stops: the
  /// actor system can only shut down once every actor has ended.
  ~deterministic() {
    for (auto& d : directories)
      caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
    sched.run();
    if (store)
      caf::anon_send_exit(store, caf::exit_reason::kill);
    sched.run();
  }

  /// A store on a fresh database and a directory using it.
  caf::actor start(const std::string& name, directory_options opts = {}) {
    db_path = fresh_db(name);
    store = spawn_store(sys, db_path, persistence::durability::normal, spawn_mode::workers);
    return restart_directory(opts);
  }

  /// A new directory over the same store (as after a node restart).
  caf::actor restart_directory(directory_options opts = {}) {
    directory = spawn_directory(sys, opts, {store, {}, {}, {}, {}});
    directories.push_back(directory);
    sched.run();
    return directory;
  }

  /// Sends a typed request to the entity `key` via the directory; the answer
  /// (of the request's reply type) lands in the returned box once the
  /// scheduler runs.
  template <class Request>
  std::shared_ptr<reply_box<typename Request::reply>> ask(entity_key key, Request req) {
    return ask_raw<typename Request::reply>(std::move(key), std::move(req));
  }

  /// ask + run the scheduler until idle + require an answer.
  template <class Request>
  typename Request::reply call(entity_key key, Request req) {
    auto box = ask(std::move(key), std::move(req));
    sched.run();
    REQUIRE(box->value.has_value());
    return *box->value;
  }

  /// A message spelled as its elements (test entities of the directory).
  template <class T, class... Ts>
  std::shared_ptr<reply_box<T>> ask_raw(entity_key key, Ts... xs) {
    auto box = std::make_shared<reply_box<T>>();
    auto dir = directory;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dir, caf::infinite, key, caf::make_message(xs...))
        .then([box](T& value) { box->value = std::move(value); },
              [box](caf::error& err) { box->error = to_errc(err); });
    });
    return box;
  }

  directory_stats stats() {
    auto box = std::make_shared<std::optional<directory_stats>>();
    auto dir = directory;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dir, caf::infinite, atoms::stats::value)
        .then([box](directory_stats& s) { *box = s; });
    });
    sched.run();
    REQUIRE(box->has_value());
    return **box;
  }

  caf::actor whereis(const entity_key& key) {
    auto box = std::make_shared<caf::actor>();
    auto dir = directory;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dir, caf::infinite, atoms::whereis::value, key)
        .then([box](caf::actor& a) { *box = a; });
    });
    sched.run();
    return *box;
  }

  std::string db_path;
  store_actor store;
  caf::actor directory;
  std::vector<caf::actor> directories;
};

/// A stand-in entity that answers get_cart but ignores its passivation, as
/// an entity waiting for an answer that never comes does; `ended` turns
/// true once it is gone (killed).
inline caf::actor spawn_never_stopping(caf::actor_system& sys, std::shared_ptr<bool> ended) {
  auto a = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](atoms::passivate) { /* never stops */ },
            [](const get_cart&) { return cart_view{}; }};
  });
  a->attach_functor([ended](const caf::error&) { *ended = true; });
  return a;
}

inline entity_key cart_of(std::string user) {
  return {entity_kind::cart, std::move(user)};
}

inline entity_key stock_of(std::int64_t product) {
  return {entity_kind::stock, std::to_string(product)};
}

} // namespace emporium::testing
