// Closed-loop order generator: a client of Emporium's HTTP + WebSocket API.
// Logs in N buyers, each with its own HTTP connection and /ws connection;
// every buyer loops add-to-cart -> place order -> wait for Confirmed on its
// socket, and the time from the place call to the Confirmed event is
// recorded. Each buyer orders again as soon as its last order ends, so the
// node runs saturated: the figure is its capacity, and latency is mostly
// queueing (about buyers / throughput). Latency at a given load is
// order_open_loop's job (arrivals on a schedule, from the intended time).
//
// All buyers run as coroutines on ONE thread: the generator shares the
// machine with the node, and a thread per buyer cost it CPU and, worse,
// stamped an event only once the kernel got round to waking that buyer's
// thread, which inflated the measured tail.
// Usage: order_load <port> <buyers> <seconds> <admin-email> <admin-password>
// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include "load_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

namespace {

using namespace load;
using clock_type = std::chrono::steady_clock;

struct results {
  std::vector<double> latencies_ms; // orders confirmed inside the window
  long failures = 0;
};

struct window {
  clock_type::time_point start;
  clock_type::time_point stop;
};

/// One buyer: its own HTTP connection and socket, one order at a time.
net::awaitable<void> buyer(int i, unsigned short port, std::string token, window w,
                           results& out) {
  const buyer_calls calls{token};
  auto ex = co_await net::this_coro::executor;
  tcp::endpoint node{net::ip::make_address("127.0.0.1"), port};
  try {
    beast::websocket::stream<tcp::socket> ws{ex};
    co_await open_socket(ws, node, calls);
    beast::flat_buffer http_buf;
    beast::flat_buffer ws_buf;
    co_await ws.async_read(ws_buf, net::use_awaitable); // hello
    ws_buf.consume(ws_buf.size());
    net::steady_timer until_start{ex, w.start};
    co_await until_start.async_wait(net::use_awaitable);
    // Connected now, not before the wait: the node closes a connection
    // that sends no request head within its header timeout (10 s).
    beast::tcp_stream api{ex};
    co_await api.async_connect(node, net::use_awaitable);

    auto call = [&](http::verb method, const std::string& target,
                    const json& body) -> net::awaitable<http::response<http::string_body>> {
      co_await http::async_write(api, make_request(method, target, body, calls.token),
                                 net::use_awaitable);
      http::response<http::string_body> res;
      co_await http::async_read(api, http_buf, res, net::use_awaitable);
      co_return res;
    };
    for (int n = 0; clock_type::now() < w.stop; ++n) {
      json line{{"productId", 1 + (i * 7 + n) % 50}, {"quantity", 1}};
      co_await call(http::verb::post, calls.add_target, line);
      auto t0 = clock_type::now();
      auto placed = co_await call(http::verb::post, calls.place_target, calls.place_body);
      if (placed.result_int() != 200) {
        ++out.failures;
        continue;
      }
      auto id = json::parse(placed.body(), nullptr, false).value("orderId", 0L);
      // The socket carries this buyer's events only, in order: read until
      // this order ends.
      for (;;) {
        co_await ws.async_read(ws_buf, net::use_awaitable);
        auto e = json::parse(beast::buffers_to_string(ws_buf.data()), nullptr, false);
        ws_buf.consume(ws_buf.size());
        if (e.value("orderId", 0L) != id)
          continue;
        auto status = e.value("status", "");
        if (status == "Confirmed") {
          auto now = clock_type::now();
          if (now <= w.stop)
            out.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - t0).count());
          break;
        }
        if (status == "Cancelled") {
          ++out.failures;
          break;
        }
      }
    }
  } catch (const std::exception& e) {
    ++out.failures;
    fmt::print(stderr, "buyer {}: {}\n", i, e.what());
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    fmt::print(stderr, "usage: order_load <port> <buyers> <seconds> <admin-email> "
                       "<admin-password>\n");
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  int buyers = std::max(1, std::atoi(argv[2]));
  double seconds = std::atof(argv[3]);
  stock_products(port, admin_token(port, argv[4], argv[5]), 50, 1'000'000'000);
  auto tokens = buyer_tokens(port, buyers);
  if (!tokens)
    return 1;

  net::io_context ioc{1};
  results out;
  // Connections are opened first; the measured window starts once all are.
  auto start = clock_type::now() + std::chrono::milliseconds(500 + 5 * buyers);
  window w{start, start + std::chrono::duration_cast<clock_type::duration>(
                            std::chrono::duration<double>(seconds))};
  for (int i = 0; i < buyers; ++i)
    net::co_spawn(ioc, buyer(i, port, (*tokens)[static_cast<std::size_t>(i)], w, out),
                  net::detached);
  ioc.run();

  auto& lat = out.latencies_ms;
  std::sort(lat.begin(), lat.end());
  fmt::print("| buyers | load | confirmed orders/s | place->Confirmed p50 | p99 | max | failed |\n");
  fmt::print("|---|---|---|---|---|---|---|\n");
  fmt::print("| {} | closed loop | {:.0f} | {:.2f} ms | {:.2f} ms | {:.2f} ms | {} |\n", buyers,
             static_cast<double>(lat.size()) / seconds, quantile(lat, 0.5), quantile(lat, 0.99),
             lat.empty() ? 0.0 : lat.back(), out.failures);
  return 0;
}
