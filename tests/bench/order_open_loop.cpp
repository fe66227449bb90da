// Open-loop order generator: orders arrive on a schedule at an offered
// rate whatever the node does, and each order's latency runs from its
// intended arrival, so a node that falls behind shows it in the figures
// instead of slowing the generator down (no coordinated omission).
//
// An arrival is an order by a buyer that has none open: add a line to the
// cart (the answer checked: 200 with the line), place it (200 with an
// order id), wait for its Confirmed or Cancelled on the buyer's socket.
// Latency = Confirmed - intended arrival: it includes the add-to-cart and
// any wait for a free buyer (stricter than place -> Confirmed). An arrival
// that finds every buyer busy waits in a backlog; nothing is dropped. Every
// order ends as one of: confirmed (inside the window), confirmed late
// (after it), cancelled, add failed, place failed, timed out (no end within
// the per-order timeout), or error (a broken connection). The last line,
// "counts {...}", lets the caller check the node's database against them.
//
// Products: `products` of them, evenly; with hot=1 half of the orders go to
// the first 10 (contention on their stock records).
//
// Usage: order_open_loop <port> <buyers> <seconds> <admin-email> <admin-password>
//          <rate> [fixed|poisson=poisson] [hot=0] [products=200] [timeout-s=10]
//          [stock=1000000]
// ORDER_LATENCY_TIMELINE=<file> also writes each confirmed order's arrival
// and latency there.
// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include "open_loop.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>

namespace {

using namespace load;

struct plan {
  schedule arrivals;
  bool hot = false;
  int products = 200;
  clock_type::duration timeout = std::chrono::seconds(10);
};

struct tally {
  std::vector<double> latencies_ms; // confirmed inside the window, from the intended arrival
  std::vector<double> arrivals_ms;  // each one's intended arrival, from the schedule's start
  long arrivals = 0, placed = 0, confirmed = 0, confirmed_late = 0, cancelled = 0,
       add_failed = 0, place_failed = 0, timed_out = 0, errors = 0;
  std::map<int, long> statuses; // of failed calls
};

int pick_product(pool& p, const plan& pl) {
  if (pl.hot && std::uniform_int_distribution<int>{0, 1}(p.rng) == 0)
    return std::uniform_int_distribution<int>{1, 10}(p.rng);
  int first = pl.hot ? 11 : 1;
  return std::uniform_int_distribution<int>{first, std::max(first, pl.products)}(p.rng);
}

/// The buyer's socket, read all the time: the end of each of its orders.
/// Sets `closed` and wakes the buyer as its last act (the buyer waits for
/// that before its frame, which these references point into, goes).
net::awaitable<void> reader(beast::websocket::stream<tcp::socket>& ws,
                            std::map<long, std::string>& ends, net::steady_timer& wake,
                            bool& closed) {
  beast::flat_buffer buf;
  try {
    for (;;) {
      co_await ws.async_read(buf, net::use_awaitable);
      auto e = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
      buf.consume(buf.size());
      auto status = e.is_object() ? e.value("status", "") : std::string{};
      if (status == "Confirmed" || status == "Cancelled") {
        ends[e.value("orderId", 0L)] = status;
        wake.cancel();
      }
    }
  } catch (const std::exception&) {
  }
  closed = true;
  wake.cancel();
}

net::awaitable<void> buyer(int i, unsigned short port, std::string token, const plan& pl,
                           pool& p, tally& t) {
  const buyer_calls calls{token};
  auto ex = co_await net::this_coro::executor;
  tcp::endpoint node{net::ip::make_address("127.0.0.1"), port};
  net::steady_timer wake{ex};
  beast::websocket::stream<tcp::socket> ws{ex};
  std::map<long, std::string> ends; // order id -> Confirmed / Cancelled
  bool ws_closed = false;
  try {
    co_await open_socket(ws, node, calls);
  } catch (const std::exception& e) {
    fmt::print(stderr, "buyer {}: socket: {}\n", i, e.what());
    ++t.errors;
    --p.running;
    co_return;
  }
  net::co_spawn(ex, reader(ws, ends, wake, ws_closed), net::detached);
  std::optional<beast::tcp_stream> api;
  clock_type::time_point api_used{};
  beast::flat_buffer http_buf;
  auto call = [&](const std::string& target,
                  const json& body) -> net::awaitable<http::response<http::string_body>> {
    drop_if_idle(api, api_used);
    if (!api) {
      api.emplace(ex);
      http_buf.clear();
      api->expires_after(pl.timeout);
      co_await api->async_connect(node, net::use_awaitable);
    }
    api->expires_after(pl.timeout);
    co_await http::async_write(*api, make_request(http::verb::post, target, body, calls.token),
                               net::use_awaitable);
    http::response<http::string_body> res;
    co_await http::async_read(*api, http_buf, res, net::use_awaitable);
    co_return res;
  };
  boost::system::error_code ec;
  for (;;) {
    auto job = co_await p.next_job(i, wake, ws_closed);
    if (!job)
      break;
    auto intended = *job;
    auto deadline = intended + pl.timeout;
    if (clock_type::now() >= deadline) {
      ++t.timed_out; // waited out its whole timeout in the backlog: not sent
      continue;
    }
    try {
      json line{{"productId", pick_product(p, pl)}, {"quantity", 1}};
      auto added = co_await call(calls.add_target, line);
      if (added.result_int() != 200) {
        ++t.add_failed;
        ++t.statuses[added.result_int()];
        continue;
      }
      auto placed = co_await call(calls.place_target, calls.place_body);
      auto id = json::parse(placed.body(), nullptr, false).value("orderId", 0L);
      if (placed.result_int() != 200 || id <= 0) {
        ++t.place_failed;
        ++t.statuses[placed.result_int()];
        continue;
      }
      ++t.placed;
      // Wait for its end on the socket, up to the order's deadline.
      while (!ends.count(id) && !ws_closed && clock_type::now() < deadline) {
        wake.expires_at(deadline);
        co_await wake.async_wait(net::redirect_error(net::use_awaitable, ec));
      }
      auto now = clock_type::now();
      auto end = ends.find(id);
      if (end == ends.end()) {
        ++(ws_closed ? t.errors : t.timed_out);
        if (ws_closed && t.errors <= 5)
          fmt::print(stderr, "buyer {}: its socket closed before order {} ended\n", i, id);
      } else if (end->second == "Cancelled") {
        ++t.cancelled;
      } else if (now <= pl.arrivals.stop) {
        ++t.confirmed;
        t.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - intended).count());
        t.arrivals_ms.push_back(
          std::chrono::duration<double, std::milli>(intended - pl.arrivals.start).count());
      } else {
        ++t.confirmed_late;
      }
      if (end != ends.end())
        ends.erase(end);
    } catch (const std::exception& e) {
      ++t.errors; // a broken or timed-out connection: the next order reconnects
      if (t.errors <= 5) // the cause, for the first few
        fmt::print(stderr, "buyer {}: order call: {}\n", i, e.what());
      api.reset();
    }
    if (ws_closed)
      break;
  }
  // The reader holds references into this frame: close its socket and wait
  // until it has stopped.
  beast::error_code ignored;
  ws.next_layer().close(ignored);
  while (!ws_closed) {
    wake.expires_at(clock_type::time_point::max());
    co_await wake.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  --p.running;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    fmt::print(stderr, "usage: order_open_loop <port> <buyers> <seconds> <admin-email> "
                       "<admin-password> <rate> [fixed|poisson] [hot=0] [products=200] "
                       "[timeout-s=10] [stock=1000000]\n");
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  int buyers = std::max(1, std::atoi(argv[2]));
  double seconds = std::atof(argv[3]);
  plan pl;
  pl.arrivals.rate = std::max(1.0, std::atof(argv[6]));
  pl.arrivals.poisson = argc <= 7 || std::string{argv[7]} != "fixed";
  pl.hot = argc > 8 && std::atoi(argv[8]) != 0;
  pl.products = argc > 9 ? std::max(11, std::atoi(argv[9])) : 200;
  pl.timeout = std::chrono::seconds(argc > 10 ? std::max(1, std::atoi(argv[10])) : 10);
  long long stock = argc > 11 ? std::atoll(argv[11]) : 1'000'000;

  stock_products(port, admin_token(port, argv[4], argv[5]), pl.products, stock);
  auto tokens = buyer_tokens(port, buyers);
  if (!tokens)
    return 1;

  net::io_context ioc{1};
  // Connections are opened first; the schedule starts once all are.
  auto opening = std::chrono::milliseconds(500 + 5 * buyers);
  pl.arrivals.start = clock_type::now() + opening;
  // For scripts that sample the node under load (order_cpu.sh): when, from
  // now, the arrivals begin. On stderr: the result lines stay on stdout.
  fmt::print(stderr, "arrivals begin in {} ms\n", opening.count());
  std::fflush(stderr);
  pl.arrivals.stop = pl.arrivals.start + std::chrono::duration_cast<clock_type::duration>(
                                           std::chrono::duration<double>(seconds));
  pool p{buyers};
  tally t;
  for (int i = 0; i < buyers; ++i)
    net::co_spawn(ioc, buyer(i, port, (*tokens)[static_cast<std::size_t>(i)], pl, p, t),
                  net::detached);
  net::co_spawn(ioc, dispatcher(pl.arrivals, p, t.arrivals), net::detached);
  ioc.run();

  // ORDER_LATENCY_TIMELINE=<file>: each confirmed order's intended arrival
  // and latency (ms, one pair a line, in completion order), to tell a
  // tail spread over the run from stalls at moments.
  if (const char* path = std::getenv("ORDER_LATENCY_TIMELINE")) {
    if (auto* out = std::fopen(path, "w")) {
      for (std::size_t k = 0; k < t.latencies_ms.size(); ++k)
        fmt::print(out, "{:.3f} {:.3f}\n", t.arrivals_ms[k], t.latencies_ms[k]);
      std::fclose(out);
    }
  }
  auto& lat = t.latencies_ms;
  std::sort(lat.begin(), lat.end());
  auto failed_statuses = std::string{};
  for (auto [status, n] : t.statuses)
    failed_statuses += fmt::format("{}{}x{}", failed_statuses.empty() ? "" : " ", n, status);
  fmt::print("| offered/s | schedule | confirmed/s | p50 | p99 | max | confirmed late | cancelled "
             "| add failed | place failed | timed out | errors |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  fmt::print("| {:.0f} | {}{} | {:.0f} | {:.2f} ms | {:.2f} ms | {:.2f} ms | {} | {} | {} | {} | "
             "{} | {} |\n",
             pl.arrivals.rate, pl.arrivals.poisson ? "poisson" : "fixed", pl.hot ? ", hot" : "",
             static_cast<double>(t.confirmed) / seconds, quantile(lat, 0.5), quantile(lat, 0.99),
             lat.empty() ? 0.0 : lat.back(), t.confirmed_late, t.cancelled, t.add_failed,
             t.place_failed, t.timed_out, t.errors);
  if (!failed_statuses.empty())
    fmt::print(stderr, "failed calls by status: {}\n", failed_statuses);
  fmt::print("counts {}\n",
             json{{"arrivals", t.arrivals}, {"placed", t.placed}, {"confirmed", t.confirmed},
                  {"confirmed_late", t.confirmed_late}, {"cancelled", t.cancelled},
                  {"add_failed", t.add_failed}, {"place_failed", t.place_failed},
                  // of the failed calls, those the node refused as busy (503)
                  {"busy", t.statuses.count(503) ? t.statuses.at(503) : 0},
                  {"timed_out", t.timed_out}, {"errors", t.errors}}
               .dump());
  return 0;
}
