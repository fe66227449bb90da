// Order load generator: a client of Emporium's HTTP + WebSocket API.
// Logs in N buyers, each with its own HTTP connection and /ws connection;
// every buyer loops add-to-cart -> place order -> wait for Confirmed on its
// socket, and the time from the place call to the Confirmed event is
// recorded.
//
// All buyers run as coroutines on ONE thread: the generator shares the
// machine with the node, and a thread per buyer cost it CPU and, worse,
// stamped an event only once the kernel got round to waking that buyer's
// thread, which inflated the measured tail.
//
// Without a rate the loop is closed: each buyer orders again as soon as its
// last order is confirmed, so the node runs saturated and latency is mostly
// queueing (about buyers / throughput). With a rate (orders/s over all
// buyers) each buyer places on a fixed schedule instead, which shows the
// latency at that load; an order due while the previous one is still open
// waits for it, and the achieved rate says whether the node kept up.
// Usage: order_load <port> <buyers> <seconds> <admin-email> <admin-password> [rate]
// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <atomic>
#include <thread>
#include <chrono>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

http::request<http::string_body> make_request(http::verb method, const std::string& target,
                                              const json& body, const std::string& token) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  if (!token.empty())
    req.set(http::field::authorization, "Bearer " + token);
  if (!body.is_null())
    req.body() = body.dump();
  req.prepare_payload();
  return req;
}

/// Blocking calls for the setup (accounts, stock) before the measurement.
struct setup_client {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  explicit setup_client(unsigned short port) {
    stream.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  }
  json call(http::verb method, const std::string& target, const json& body,
            const std::string& token = {}) {
    http::write(stream, make_request(method, target, body, token));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return json::parse(res.body(), nullptr, false);
  }
};

struct results {
  std::vector<double> latencies_ms; // orders confirmed inside the window
  long failures = 0;
};

struct window {
  clock_type::time_point start;
  clock_type::time_point stop;
  clock_type::duration pace{0}; // between one buyer's orders; 0 = closed loop
  int buyers = 1;
};

/// One buyer: its own HTTP connection and socket, one order at a time.
net::awaitable<void> buyer(int i, unsigned short port, std::string token, window w,
                           results& out) {
  // No string literal may appear inside a co_await expression: g++ 12 then
  // fails with "array used as initializer" (a coroutine-frame bug).
  const std::string host = "127.0.0.1";
  const std::string add_target = "/api/cart/add";
  const std::string place_target = "/api/orders/place";
  const std::string socket_target = "/ws?access_token=" + token;
  const json place_body{{"paymentMethodId", "pm_card_visa"}};
  auto ex = co_await net::this_coro::executor;
  tcp::endpoint node{net::ip::make_address("127.0.0.1"), port};
  try {
    beast::websocket::stream<tcp::socket> ws{ex};
    co_await ws.next_layer().async_connect(node, net::use_awaitable);
    co_await ws.async_handshake(host, socket_target, net::use_awaitable);
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
      co_await http::async_write(api, make_request(method, target, body, token),
                                 net::use_awaitable);
      http::response<http::string_body> res;
      co_await http::async_read(api, http_buf, res, net::use_awaitable);
      co_return res;
    };
    net::steady_timer pacer{ex};
    // Buyers start evenly spread over one pace interval.
    auto due = w.start + w.pace * i / w.buyers;
    for (int n = 0; clock_type::now() < w.stop; ++n) {
      if (w.pace.count() > 0) {
        pacer.expires_at(due);
        co_await pacer.async_wait(net::use_awaitable);
        due += w.pace;
      }
      json line{{"productId", 1 + (i * 7 + n) % 50}, {"quantity", 1}};
      co_await call(http::verb::post, add_target, line);
      auto t0 = clock_type::now();
      auto placed = co_await call(http::verb::post, place_target, place_body);
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
                       "<admin-password> [orders-per-second]\n");
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  int buyers = std::max(1, std::atoi(argv[2]));
  double seconds = std::atof(argv[3]);
  double rate = argc > 6 ? std::atof(argv[6]) : 0.0;
  setup_client setup{port};
  auto admin = setup.call(http::verb::post, "/api/auth/login",
                          {{"email", argv[4]}, {"password", argv[5]}})["token"].get<std::string>();
  for (int p = 1; p <= 50; ++p)
    setup.call(http::verb::put, fmt::format("/api/products/{}/stock", p),
               {{"quantity", 1'000'000'000}}, admin);
  // Sign-ups hash a password (Argon2): several at once, or a thousand
  // buyers take minutes before the first order.
  std::vector<std::string> tokens(static_cast<std::size_t>(buyers));
  // ORDER_LOAD_TOKENS names a file of buyers' tokens kept between runs on
  // one data directory (a restarted node keeps its JWT secret): a thousand
  // sign-ups cost minutes of Argon2 that a run need not repeat.
  const char* saved = std::getenv("ORDER_LOAD_TOKENS");
  bool have_tokens = false;
  if (saved) {
    std::ifstream in(saved);
    std::string line;
    std::size_t n = 0;
    while (n < tokens.size() && std::getline(in, line))
      tokens[n++] = line;
    have_tokens = n == tokens.size();
  }
  if (!have_tokens) {
    auto run_id = clock_type::now().time_since_epoch().count();
    std::atomic<int> next{0};
    std::atomic<bool> setup_failed{false};
    std::vector<std::thread> signups;
    for (int t = 0; t < std::min(buyers, 8); ++t)
      signups.emplace_back([&] {
        try {
          setup_client client{port};
          for (int i; (i = next++) < buyers && !setup_failed;) {
            auto email = fmt::format("load{}-{}@bench.test", i, run_id);
            client.call(http::verb::post, "/api/auth/register",
                        {{"email", email}, {"password", "Kettle-Lamp-42"}});
            tokens[static_cast<std::size_t>(i)] =
              client.call(http::verb::post, "/api/auth/login",
                          {{"email", email}, {"password", "Kettle-Lamp-42"}})["token"];
          }
        } catch (const std::exception& e) {
          fmt::print(stderr, "sign-up failed: {}\n", e.what());
          setup_failed = true;
        }
      });
    for (auto& t : signups)
      t.join();
    if (setup_failed)
      return 1;
    if (saved) {
      std::ofstream out(saved, std::ios::trunc);
      for (const auto& t : tokens)
        out << t << '\n';
    }
  }

  net::io_context ioc{1};
  results out;
  // Connections are opened first; the measured window starts once all are.
  auto start = clock_type::now() + std::chrono::milliseconds(500 + 5 * buyers);
  auto span = [](double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  };
  window w{start, start + span(seconds), rate > 0 ? span(buyers / rate) : clock_type::duration{0},
           buyers};
  for (int i = 0; i < buyers; ++i)
    net::co_spawn(ioc, buyer(i, port, tokens[static_cast<std::size_t>(i)], w, out), net::detached);
  ioc.run();

  auto elapsed = std::chrono::duration<double>(w.stop - w.start).count();
  auto& lat = out.latencies_ms;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))];
  };
  auto load = rate > 0 ? fmt::format("paced at {:.0f}/s", rate) : std::string{"closed loop"};
  fmt::print("| buyers | load | confirmed orders/s | place->Confirmed p50 | p99 | max | failed |\n");
  fmt::print("|---|---|---|---|---|---|---|\n");
  fmt::print("| {} | {} | {:.0f} | {:.2f} ms | {:.2f} ms | {:.2f} ms | {} |\n", buyers, load,
             lat.size() / elapsed, pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back(),
             out.failures);
  return 0;
}
