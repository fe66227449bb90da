// Actor-level benchmarks, printed as one table from one run:
//   1. raw CAF request/response round trips/s between client/server pairs
//      (the ceiling),
//   2. cart adds/s through the directory with persistence OFF,
//   3. the same with persistence ON (WAL, synchronous=NORMAL, group commit),
//   4. resident memory per cart actor with N carts active (RSS delta / N).
// Usage: bench_actors [seconds-per-phase=3] [clients=64] [carts=1000000]
#include "actors/directory.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/protocol.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace emporium;
using namespace std::chrono;

namespace {

struct bench_config : caf::actor_system_config {
  bench_config() {
    register_message_types(*this);
    // BENCH_SHARING=1 compares CAF's sharing scheduler with the default
    // work-stealing one (see README: passivation bursts).
    if (std::getenv("BENCH_SHARING") != nullptr)
      set("scheduler.policy", caf::atom("sharing"));
  }
};

/// Closed loop: each client sends the next request when the previous answer
/// arrives, until `stop` is set; `done` counts answers.
caf::behavior looping_client(caf::event_based_actor* self, caf::actor target,
                             caf::message msg, std::atomic<bool>* stop,
                             std::atomic<std::uint64_t>* done) {
  auto step = std::make_shared<std::function<void()>>();
  *step = [=] {
    if (stop->load(std::memory_order_relaxed))
      return self->quit();
    self->request(target, caf::infinite, msg)
      .then(
        [=](cart_view&) {
          done->fetch_add(1, std::memory_order_relaxed);
          (*step)();
        },
        [=](caf::error&) { self->quit(); });
  };
  // First request once started.
  self->send(self, caf::atom("go"));
  return {[=](caf::atom_value) { (*step)(); }};
}

double run_loop(caf::actor_system& sys, int clients, double seconds,
                const std::function<std::pair<caf::actor, caf::message>(int)>& make) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> done{0};
  std::vector<caf::actor> spawned;
  for (int i = 0; i < clients; ++i) {
    auto [target, msg] = make(i);
    spawned.push_back(sys.spawn(looping_client, target, msg, &stop, &done));
  }
  std::this_thread::sleep_for(milliseconds(300)); // warm-up
  auto start_count = done.load();
  auto t0 = steady_clock::now();
  std::this_thread::sleep_for(duration<double>(seconds));
  auto n = done.load() - start_count;
  auto dt = duration<double>(steady_clock::now() - t0).count();
  stop = true;
  caf::scoped_actor self{sys};
  for (auto& a : spawned) {
    self->monitor(a);
    self->receive([](const caf::down_msg&) {});
  }
  return static_cast<double>(n) / dt;
}

long rss_kib() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

caf::behavior echo_server(caf::event_based_actor*) {
  return {[](const add_to_cart& r) {
    return cart_view{{cart_line{r.product, r.quantity, r.unit_price, r.name}},
                     r.unit_price * r.quantity};
  }};
}

void stop_directory(caf::actor_system& sys, const caf::actor& dir) {
  caf::scoped_actor self{sys};
  self->monitor(dir);
  self->send_exit(dir, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
}

} // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  int clients = argc > 2 ? std::atoi(argv[2]) : 64;
  long carts = argc > 3 ? std::atol(argv[3]) : 1'000'000;
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto add_msg = [](int i) {
    return caf::make_message(add_to_cart{1 + i % 50, 1, 999, "Bench item", 1'000'000});
  };

  // 1. Raw CAF: each client has its own server actor (same message shape).
  std::vector<caf::actor> servers;
  auto raw = run_loop(sys, clients, seconds, [&](int i) {
    servers.push_back(sys.spawn(echo_server));
    return std::pair{servers.back(), add_msg(i)};
  });
  for (auto& s : servers)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  fmt::print(stderr, "raw CAF: {:.0f}/s\n", raw);

  // 2. Through the directory, persistence off.
  directory_options opts;
  opts.max_resident = static_cast<std::size_t>(carts) + 1000;
  opts.idle_timeout = milliseconds(0);
  auto dir_off = spawn_directory(sys, opts, {});
  // Each client talks to its own cart through the directory, and the payload
  // is wrapped like every caller wraps it: (entity_key, message).
  auto via_directory = [&](const caf::actor& dir) {
    return [&, dir](int i) {
      return std::pair{dir, caf::make_message(entity_key{entity_kind::cart,
                                                         fmt::format("bench-{}", i)},
                                              add_msg(i))};
    };
  };
  auto off = run_loop(sys, clients, seconds, via_directory(dir_off));
  stop_directory(sys, dir_off);
  fmt::print(stderr, "persistence off: {:.0f}/s\n", off);

  // 3. Through the directory, persistence on (a fresh database).
  auto db = (std::filesystem::temp_directory_path() / "emporium-bench.db").string();
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(db + suffix);
  persistence::prepare_database(db, persistence::durability::normal);
  auto store = spawn_store(sys, db, persistence::durability::normal, spawn_mode::own_thread);
  auto dir_on = spawn_directory(sys, opts, {store, {}, {}, {}, {}});
  auto on = run_loop(sys, clients, seconds, via_directory(dir_on));
  stop_directory(sys, dir_on);
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  fmt::print(stderr, "persistence on: {:.0f}/s\n", on);

  // 4. Memory per resident cart: activate `carts` carts (persistence off).
  auto dir_mem = spawn_directory(sys, opts, {});
  auto before = rss_kib();
  auto activation_start = steady_clock::now();
  {
    caf::scoped_actor self{sys};
    constexpr long window = 2000; // requests in flight at once
    long sent = 0, answered = 0;
    auto send_one = [&] {
      self->send(dir_mem, entity_key{entity_kind::cart, fmt::format("m{}", sent++)},
                 caf::make_message(get_cart{}));
    };
    while (sent < std::min(window, carts))
      send_one();
    while (answered < carts) {
      self->receive([&](cart_view&) { ++answered; });
      if (sent < carts)
        send_one();
    }
  }
  auto after = rss_kib();
  auto activation_seconds = duration<double>(steady_clock::now() - activation_start).count();
  double per_cart = static_cast<double>(after - before) * 1024.0 / static_cast<double>(carts);

  fmt::print("| measurement ({} clients, {:.0f} s each) | per second | ratio to raw CAF |\n",
             clients, seconds);
  fmt::print("|---|---|---|\n");
  fmt::print("| raw CAF request/response (ceiling) | {:.0f} | 1.00 |\n", raw);
  fmt::print("| cart add via directory, persistence off | {:.0f} | {:.2f} |\n", off, off / raw);
  fmt::print("| cart add via directory, durable (WAL, NORMAL, group commit) | {:.0f} | {:.2f} |\n",
             on, on / raw);
  fmt::print("\n| resident carts | RSS delta | bytes per cart |\n|---|---|---|\n");
  fmt::print("| {} | {:.1f} MiB | {:.0f} |\n", carts, (after - before) / 1024.0, per_cart);
  fmt::print("\n{} activations took {:.1f} s\n", carts, activation_seconds);
  if (std::getenv("BENCH_PASSIVATE") != nullptr) {
    auto t_stop = steady_clock::now();
    stop_directory(sys, dir_mem);
    fmt::print("passivating them all took {:.1f} s\n",
               duration<double>(steady_clock::now() - t_stop).count());
  }
  // Tearing down a million actors gracefully is not what this measures.
  std::fflush(stdout);
  std::_Exit(0);
}
