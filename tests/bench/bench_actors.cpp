// Actor-level benchmarks, printed as tables from one run:
//   1. raw CAF request/response round trips/s between client/server pairs
//      (a ceiling that scales with cores),
//   2. the same through ONE forwarding actor that looks each key up and
//      delegates (the directory's topology without its work: the ceiling
//      for anything that routes through one actor),
//   3. cart adds/s through the directory, persistence off,
//   4. the same with persistence on (WAL, synchronous=NORMAL, group commit),
//   5. resident memory per stock record (a fifth as many as carts),
//   6. resident memory per cart with real ids and 3 lines, persistence on.
// Cart adds spread over 10,000 users (32 hex characters, as real ids) and
// 200 products; each (user, product) gets +1 then -1, so no line ever
// reaches its cap, and every error answer is counted, not dropped. Phases
// 2-4 alternate over `runs` runs; each figure is the median (min-max).
// Usage: bench_actors [seconds-per-phase=3] [clients=64] [carts=1000000] [runs=3]
//                     [stock-records=carts/5]
#include "actors/directory.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/protocol.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <thread>
#include <unordered_map>
#include <sys/resource.h>
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

/// The i-th of 10,000 users: 32 hex characters, as real ids are.
std::string user_id(std::uint64_t i) {
  return fmt::format("{:016x}{:016x}", i * 0x9E3779B97F4A7C15ull, i + 1);
}

constexpr std::uint64_t users = 10'000;
constexpr std::int32_t products = 200;
/// Names like the demo catalog's ("<adjective> <noun>", 18-28 characters
/// here): past std::string's 15 inline characters, so each line's name is
/// an allocation of its own, as in a real cart.
constexpr std::array<const char*, 3> demo_like_names = {"Classic Tea Kettle",
                                                         "Compact Wireless Mouse",
                                                         "Premium Field Guide to Birds"};

/// A client's k-th cart add: user and product move on every second step,
/// and the second of the two takes the unit back out.
caf::message cart_add(int client, int clients, std::uint64_t k) {
  auto pair = k / 2;
  auto user = (static_cast<std::uint64_t>(client) + pair * static_cast<std::uint64_t>(clients)) % users;
  auto product = static_cast<product_id>(1 + (pair / users + user) % products);
  const auto* name = demo_like_names[static_cast<std::size_t>(product) % demo_like_names.size()];
  return caf::make_message(entity_key{entity_kind::cart, user_id(user)},
                           caf::make_message(add_to_cart{product, k % 2 == 0 ? 1 : -1, 999,
                                                         name, 1'000'000}));
}

struct counters {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> errors{0};
};

/// Closed loop: each client sends its next request when the previous answer
/// arrives, until `stop` is set. An error answer is counted and the client
/// goes on (the requests are independent).
caf::behavior looping_client(caf::event_based_actor* self, caf::actor target,
                             std::function<caf::message(std::uint64_t)> next, counters* c) {
  auto step = std::make_shared<std::function<void()>>();
  auto k = std::make_shared<std::uint64_t>(0);
  *step = [=] {
    if (c->stop.load(std::memory_order_relaxed))
      return self->quit();
    self->request(target, caf::infinite, next((*k)++))
      .then(
        [=](cart_view&) {
          c->done.fetch_add(1, std::memory_order_relaxed);
          (*step)();
        },
        [=](caf::error&) {
          c->errors.fetch_add(1, std::memory_order_relaxed);
          (*step)();
        });
  };
  self->send(self, caf::atom("go"));
  return {[=](caf::atom_value) { (*step)(); }};
}

struct rate {
  double per_second = 0;
  std::uint64_t errors = 0;
  double cpu_us_per_op = 0; // the whole process's CPU time (all threads) per answer
};

/// User plus system CPU time of the whole process so far, in microseconds.
double process_cpu_us() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + t.tv_usec; };
  return us(u.ru_utime) + us(u.ru_stime);
}

/// `clients` closed-loop clients for `seconds` after a 300 ms warm-up.
rate run_loop(caf::actor_system& sys, int clients, double seconds,
              const std::function<std::pair<caf::actor, std::function<caf::message(std::uint64_t)>>(
                int)>& make) {
  counters c;
  std::vector<caf::actor> spawned;
  for (int i = 0; i < clients; ++i) {
    auto [target, next] = make(i);
    spawned.push_back(sys.spawn(looping_client, target, next, &c));
  }
  std::this_thread::sleep_for(milliseconds(300)); // warm-up
  auto start_count = c.done.load();
  auto start_errors = c.errors.load();
  auto t0 = steady_clock::now();
  auto cpu0 = process_cpu_us();
  std::this_thread::sleep_for(duration<double>(seconds));
  auto n = c.done.load() - start_count;
  auto errors = c.errors.load() - start_errors;
  auto cpu = process_cpu_us() - cpu0;
  auto dt = duration<double>(steady_clock::now() - t0).count();
  c.stop = true;
  caf::scoped_actor self{sys};
  for (auto& a : spawned) {
    self->monitor(a);
    self->receive([](const caf::down_msg&) {});
  }
  return {static_cast<double>(n) / dt, errors, n > 0 ? cpu / static_cast<double>(n) : 0.0};
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

/// One actor in front of many: looks the key up (spawning its server on
/// first use) and delegates the payload, as the directory does.
struct forwarder_state {
  std::unordered_map<std::string, caf::actor> servers;
};

caf::behavior forwarder(caf::stateful_actor<forwarder_state>* self) {
  return {[self](entity_key& key, caf::message& payload) {
    auto& server = self->state.servers[key.id];
    if (!server)
      server = self->spawn<caf::linked>(echo_server); // they end with the forwarder
    self->delegate(server, std::move(payload));
  }};
}

/// Stops an actor (a directory, the forwarder) and waits until it is gone.
void stop_and_wait(caf::actor_system& sys, const caf::actor& dir) {
  caf::scoped_actor self{sys};
  self->monitor(dir);
  self->send_exit(dir, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
}

/// "median (min-max)" of per-second figures (or, with decimals, of CPU
/// microseconds per answer).
std::string spread(std::vector<double> v, int decimals = 0) {
  std::sort(v.begin(), v.end());
  return fmt::format("{:.{}f} ({:.{}f}-{:.{}f})", v[v.size() / 2], decimals, v.front(), decimals,
                     v.back(), decimals);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Sends `total` requests through `directory` with 2,000 in flight at once
/// (`make(i)` gives the i-th key and message) and waits for every answer;
/// returns how many were errors.
template <class Reply, class Make>
long send_windowed(caf::actor_system& sys, const caf::actor& directory, long total, Make make) {
  caf::scoped_actor self{sys};
  constexpr long window = 2000;
  long sent = 0, answered = 0, failed = 0;
  auto send_one = [&] {
    auto [key, msg] = make(sent++);
    self->send(directory, std::move(key), std::move(msg));
  };
  while (sent < std::min(window, total))
    send_one();
  while (answered < total) {
    self->receive([&](Reply&) { ++answered; },
                  [&](caf::error&) {
                    ++answered;
                    ++failed;
                  });
    if (sent < total)
      send_one();
  }
  return failed;
}

} // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  int clients = argc > 2 ? std::atoi(argv[2]) : 64;
  long carts = argc > 3 ? std::atol(argv[3]) : 1'000'000;
  int runs = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
  long stock_records = argc > 5 ? std::atol(argv[5]) : carts / 5;
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto adds = [clients](int i) {
    return [i, clients](std::uint64_t k) { return cart_add(i, clients, k); };
  };
  auto bare_adds = [clients](int i) {
    return [i, clients](std::uint64_t k) {
      return cart_add(i, clients, k).get_as<caf::message>(1);
    };
  };

  // 1. Raw CAF: each client has its own server actor (same message shape).
  std::vector<caf::actor> servers;
  auto raw = run_loop(sys, clients, seconds, [&](int i) {
    servers.push_back(sys.spawn(echo_server));
    return std::pair{servers.back(), std::function<caf::message(std::uint64_t)>{bare_adds(i)}};
  });
  for (auto& s : servers)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  fmt::print(stderr, "raw CAF: {:.0f}/s\n", raw.per_second);

  directory_options opts;
  opts.max_resident = static_cast<std::size_t>(carts + stock_records) + users + 1000;
  opts.idle_timeout = milliseconds(0);
  auto via = [&](const caf::actor& target) {
    return [&, target](int i) {
      return std::pair{target, std::function<caf::message(std::uint64_t)>{adds(i)}};
    };
  };
  auto db = (std::filesystem::temp_directory_path() / "emporium-bench.db").string();
  auto fresh_db = [&] {
    for (auto suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(db + suffix);
    persistence::prepare_database(db, persistence::durability::normal);
  };
  std::vector<double> fwd, off, on;
  std::vector<double> fwd_cpu, off_cpu, on_cpu; // CPU microseconds per answer
  std::uint64_t fwd_errors = 0, off_errors = 0, on_errors = 0;
  for (int r = 0; r < runs; ++r) {
    // 2. One forwarding actor in front of an echo server per user.
    auto front = sys.spawn(forwarder);
    auto f = run_loop(sys, clients, seconds, via(front));
    stop_and_wait(sys, front);
    fwd.push_back(f.per_second);
    fwd_cpu.push_back(f.cpu_us_per_op);
    fwd_errors += f.errors;
    // 3. Through the directory, persistence off.
    auto dir_off = spawn_directory(sys, opts, {});
    auto o = run_loop(sys, clients, seconds, via(dir_off));
    stop_and_wait(sys, dir_off);
    off.push_back(o.per_second);
    off_cpu.push_back(o.cpu_us_per_op);
    off_errors += o.errors;
    // 4. Through the directory, persistence on (a fresh database).
    fresh_db();
    auto store = spawn_store(sys, db, persistence::durability::normal, spawn_mode::own_thread);
    auto dir_on = spawn_directory(sys, opts, {store, {}, {}, {}, {}, {}});
    auto d = run_loop(sys, clients, seconds, via(dir_on));
    stop_and_wait(sys, dir_on);
    caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
    on.push_back(d.per_second);
    on_cpu.push_back(d.cpu_us_per_op);
    on_errors += d.errors;
    fmt::print(stderr,
               "run {}: forwarder {:.0f}/s ({:.1f} us CPU each), off {:.0f}/s ({:.1f} us), "
               "durable {:.0f}/s ({:.1f} us)\n",
               r + 1, f.per_second, f.cpu_us_per_op, o.per_second, o.cpu_us_per_op, d.per_second,
               d.cpu_us_per_op);
  }

  // 5. Memory per resident stock record (a product's entity), persistence
  // on: one read each activates it. On a database, store and directory of
  // their own, kept while the carts are measured: what either phase frees
  // is not there to flatter the other.
  long records = std::max(1L, stock_records);
  auto stock_db = db + "-stock";
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(stock_db + suffix);
  persistence::prepare_database(stock_db, persistence::durability::normal);
  auto stock_store =
    spawn_store(sys, stock_db, persistence::durability::normal, spawn_mode::own_thread);
  auto dir_stock = spawn_directory(sys, opts, {stock_store, {}, {}, {}, {}, {}});
  auto before_stock = rss_kib();
  auto stock_failed = send_windowed<stock_view>(sys, dir_stock, records, [](long i) {
    return std::pair{entity_key{entity_kind::stock, std::to_string(1 + i)},
                     caf::make_message(get_stock{})};
  });
  auto after_stock = rss_kib();
  fmt::print("\n| resident stock records (persistence on) | RSS delta | bytes per record | failed "
             "reads |\n|---|---|---|---|\n");
  fmt::print("| {} | {:.1f} MiB | {:.0f} | {} |\n", records, (after_stock - before_stock) / 1024.0,
             static_cast<double>(after_stock - before_stock) * 1024.0 /
               static_cast<double>(records),
             stock_failed);

  // 6. Memory per resident cart: `carts` carts with real ids and 3 lines
  // each, persistence on.
  fresh_db();
  auto mem_store = spawn_store(sys, db, persistence::durability::normal, spawn_mode::own_thread);
  auto dir_mem = spawn_directory(sys, opts, {mem_store, {}, {}, {}, {}, {}});

  auto before = rss_kib();
  auto activation_start = steady_clock::now();
  auto failed = send_windowed<cart_view>(sys, dir_mem, carts * 3, [](long i) {
    auto cart = static_cast<std::uint64_t>(i / 3);
    auto line = static_cast<product_id>(1 + i % 3);
    return std::pair{entity_key{entity_kind::cart, user_id(users + cart)},
                     caf::make_message(add_to_cart{line, 1, 999, demo_like_names[i % 3],
                                                   1'000'000})};
  });
  auto after = rss_kib();
  auto activation_seconds = duration<double>(steady_clock::now() - activation_start).count();
  double per_cart = static_cast<double>(after - before) * 1024.0 / static_cast<double>(carts);

  auto ceiling = median(fwd);
  fmt::print("| measurement ({} clients, {:.0f} s each, {} runs) | per second | errors | ratio to "
             "raw CAF | ratio to one forwarder | CPU per answer (all threads) |\n",
             clients, seconds, runs);
  fmt::print("|---|---|---|---|---|---|\n");
  fmt::print("| raw CAF request/response, {} independent pairs | {:.0f} | {} | 1.00 | {:.2f} | {:.1f} us "
             "|\n",
             clients, raw.per_second, raw.errors, raw.per_second / ceiling, raw.cpu_us_per_op);
  fmt::print("| through one forwarding actor (the directory's topology) | {} | {} | {:.2f} | 1.00 | "
             "{} us |\n",
             spread(fwd), fwd_errors, ceiling / raw.per_second, spread(fwd_cpu, 1));
  fmt::print("| cart add via directory, persistence off | {} | {} | {:.2f} | {:.2f} | {} us |\n",
             spread(off), off_errors, median(off) / raw.per_second, median(off) / ceiling,
             spread(off_cpu, 1));
  fmt::print("| cart add via directory, durable (WAL, NORMAL, group commit) | {} | {} | {:.2f} | "
             "{:.2f} | {} us |\n",
             spread(on), on_errors, median(on) / raw.per_second, median(on) / ceiling,
             spread(on_cpu, 1));
  // Phases of one run are seconds apart; runs are not: the machine's speed
  // moves between them, so the ratio within each run is the steadier figure.
  std::vector<double> within;
  for (std::size_t r = 0; r < on.size(); ++r)
    within.push_back(on[r] / fwd[r]);
  std::sort(within.begin(), within.end());
  fmt::print("\ndurable / forwarder within each run: {:.2f} median ({:.2f}-{:.2f})\n",
             within[within.size() / 2], within.front(), within.back());
  fmt::print("\n(cart adds over {} users with 32-hex ids and {} products, +1 then -1 per line)\n",
             users, products);
  fmt::print("\n| resident carts (32-hex ids, 3 lines, persistence on) | RSS delta | bytes per cart "
             "| failed adds |\n|---|---|---|---|\n");
  fmt::print("| {} | {:.1f} MiB | {:.0f} | {} |\n", carts, (after - before) / 1024.0, per_cart,
             failed);
  fmt::print("\n{} carts x 3 durable adds took {:.1f} s\n", carts, activation_seconds);

  if (std::getenv("BENCH_PASSIVATE") != nullptr) {
    auto t_stop = steady_clock::now();
    stop_and_wait(sys, dir_mem);
    fmt::print("passivating them all took {:.1f} s\n",
               duration<double>(steady_clock::now() - t_stop).count());
  }
  // Tearing down a million actors gracefully is not what this measures.
  std::fflush(stdout);
  std::_Exit(0);
}
