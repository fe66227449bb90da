// Order load generator: a client of Emporium's HTTP + WebSocket API.
// Logs in N buyers, each with its own /ws connection; every buyer loops
// add-to-cart -> place order -> wait for Confirmed on its socket, and the
// time from the place call to the Confirmed event is recorded.
// Usage: order_load <port> <buyers> <seconds> <admin-email> <admin-password>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct client {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  explicit client(unsigned short port) {
    stream.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  }
  json call(http::verb method, const std::string& target, const json& body,
            const std::string& token = {}, unsigned* status = nullptr) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    if (!token.empty())
      req.set(http::field::authorization, "Bearer " + token);
    if (!body.is_null())
      req.body() = body.dump();
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    if (status)
      *status = res.result_int();
    return json::parse(res.body(), nullptr, false);
  }
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    fmt::print(stderr, "usage: order_load <port> <buyers> <seconds> <admin-email> <admin-password>\n");
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  int buyers = std::atoi(argv[2]);
  double seconds = std::atof(argv[3]);
  client setup{port};
  auto admin = setup.call(http::verb::post, "/api/auth/login",
                          {{"email", argv[4]}, {"password", argv[5]}})["token"].get<std::string>();
  for (int p = 1; p <= 50; ++p)
    setup.call(http::verb::put, fmt::format("/api/products/{}/stock", p),
               {{"quantity", 1'000'000'000}}, admin);
  std::vector<std::string> tokens;
  auto run_id = clock_type::now().time_since_epoch().count();
  for (int i = 0; i < buyers; ++i) {
    auto email = fmt::format("load{}-{}@bench.test", i, run_id);
    setup.call(http::verb::post, "/api/auth/register", {{"email", email}, {"password", "bench-pass"}});
    tokens.push_back(setup.call(http::verb::post, "/api/auth/login",
                                {{"email", email}, {"password", "bench-pass"}})["token"]);
  }
  std::atomic<bool> go{false}, stop{false};
  std::atomic<long> failures{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::vector<std::thread> threads;
  for (int i = 0; i < buyers; ++i) {
    threads.emplace_back([&, i] {
      try {
        client api{port};
        net::io_context ioc;
        beast::websocket::stream<tcp::socket> ws{ioc};
        ws.next_layer().connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
        ws.handshake("127.0.0.1", "/ws?access_token=" + tokens[i]);
        beast::flat_buffer buf;
        ws.read(buf); // hello
        buf.consume(buf.size());
        std::vector<double> mine;
        while (!go)
          std::this_thread::yield();
        for (int n = 0; !stop; ++n) {
          unsigned status = 0;
          api.call(http::verb::post, "/api/cart/add",
                   {{"productId", 1 + (i * 7 + n) % 50}, {"quantity", 1}}, tokens[i], &status);
          auto t0 = clock_type::now();
          auto placed = api.call(http::verb::post, "/api/orders/place",
                                 {{"paymentMethodId", "pm_card_visa"}}, tokens[i], &status);
          if (status != 200) {
            ++failures;
            continue;
          }
          auto id = placed["orderId"].get<long>();
          for (;;) {
            ws.read(buf);
            auto e = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
            buf.consume(buf.size());
            if (e.value("orderId", 0L) != id)
              continue;
            auto s = e.value("status", "");
            if (s == "Confirmed") {
              mine.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
              break;
            }
            if (s == "Cancelled") {
              ++failures;
              break;
            }
          }
        }
        std::lock_guard guard{mutex};
        latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      } catch (const std::exception& e) {
        ++failures;
        fmt::print(stderr, "buyer {}: {}\n", i, e.what());
      }
    });
  }
  auto t0 = clock_type::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  auto elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double q) {
    return latencies_ms.empty() ? 0.0 : latencies_ms[std::min(latencies_ms.size() - 1,
                                                              static_cast<std::size_t>(q * latencies_ms.size()))];
  };
  fmt::print("| buyers | confirmed orders/s | place->Confirmed p50 | p99 | max | failed |\n");
  fmt::print("|---|---|---|---|---|---|\n");
  fmt::print("| {} | {:.0f} | {:.2f} ms | {:.2f} ms | {:.2f} ms | {} |\n", buyers,
             latencies_ms.size() / elapsed, pct(0.5), pct(0.99),
             latencies_ms.empty() ? 0.0 : latencies_ms.back(), failures.load());
  return 0;
}
