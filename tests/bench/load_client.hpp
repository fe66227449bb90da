// What the order load generators share: a request builder, a blocking
// client for the set-up, and the buyers' sign-ups (kept in a token file
// between runs on one data directory: a thousand Argon2 hashes take
// minutes that a run need not repeat).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace load {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;

inline http::request<http::string_body> make_request(http::verb method, const std::string& target,
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
/// A call that finds its kept-alive connection closed (the node closes one
/// left idle past its header timeout; before e593d0d it counted that time
/// from the previous request, so a slow answer such as a login queued for
/// Argon2 used it up) is made once more on a new connection: every setup
/// call may be repeated (a stock level, a login, a sign-up that then
/// answers "taken" and is followed by the login).
struct setup_client {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  unsigned short port;
  explicit setup_client(unsigned short port) : port(port) { connect(); }
  void connect() {
    stream.emplace(ioc);
    stream->connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  }
  json call(http::verb method, const std::string& target, const json& body,
            const std::string& token = {}) {
    for (int attempt = 0;; ++attempt) {
      try {
        http::write(*stream, make_request(method, target, body, token));
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(*stream, buf, res);
        if (!res.keep_alive())
          connect();
        return json::parse(res.body(), nullptr, false);
      } catch (const boost::system::system_error& e) {
        bool closed = e.code() == http::error::end_of_stream ||
                      e.code() == net::error::connection_reset ||
                      e.code() == net::error::broken_pipe;
        if (!closed || attempt > 0)
          throw;
        connect();
      }
    }
  }
};

/// The admin's token.
inline std::string admin_token(unsigned short port, const std::string& email,
                               const std::string& password) {
  setup_client setup{port};
  return setup
    .call(http::verb::post, "/api/auth/login", {{"email", email}, {"password", password}})["token"]
    .get<std::string>();
}

/// Puts `quantity` units of products 1..count in stock.
inline void stock_products(unsigned short port, const std::string& admin, int count,
                           long long quantity) {
  setup_client setup{port};
  for (int p = 1; p <= count; ++p)
    setup.call(http::verb::put, fmt::format("/api/products/{}/stock", p), {{"quantity", quantity}},
               admin);
}

/// Tokens of `buyers` signed-up buyers: read from the file ORDER_LOAD_TOKENS
/// names, the ones it lacks signed up (eight at a time) and saved there
/// after them. nullopt when a sign-up failed.
inline std::optional<std::vector<std::string>> buyer_tokens(unsigned short port, int buyers) {
  std::vector<std::string> tokens(static_cast<std::size_t>(buyers));
  const char* saved = std::getenv("ORDER_LOAD_TOKENS");
  int have = 0; // saved ones are kept; only the missing ones sign up
  if (saved) {
    std::ifstream in(saved);
    std::string line;
    while (have < buyers && std::getline(in, line))
      tokens[static_cast<std::size_t>(have++)] = line;
    if (have == buyers)
      return tokens;
  }
  auto run_id = std::chrono::steady_clock::now().time_since_epoch().count();
  std::atomic<int> next{have};
  std::atomic<bool> failed{false};
  std::vector<std::thread> signups;
  for (int t = 0; t < std::min(buyers, 8); ++t)
    signups.emplace_back([&] {
      try {
        setup_client client{port};
        for (int i; (i = next++) < buyers && !failed;) {
          auto email = fmt::format("load{}-{}@bench.test", i, run_id);
          client.call(http::verb::post, "/api/auth/register",
                      {{"email", email}, {"password", "Kettle-Lamp-42"}});
          tokens[static_cast<std::size_t>(i)] =
            client.call(http::verb::post, "/api/auth/login",
                        {{"email", email}, {"password", "Kettle-Lamp-42"}})["token"];
        }
      } catch (const std::exception& e) {
        fmt::print(stderr, "sign-up failed: {}\n", e.what());
        failed = true;
      }
    });
  for (auto& t : signups)
    t.join();
  if (failed)
    return std::nullopt;
  if (saved) {
    std::ofstream out(saved, std::ios::trunc);
    for (const auto& t : tokens)
      out << t << '\n';
  }
  return tokens;
}

/// What a buyer sends. The strings live here, not in co_await
/// expressions: with a string literal inside one, g++ 12 fails with "array
/// used as initializer" (a coroutine-frame bug).
struct buyer_calls {
  explicit buyer_calls(const std::string& token) : token(token) {}
  const std::string token;
  const std::string host = "127.0.0.1";
  const std::string add_target = "/api/cart/add";
  const std::string place_target = "/api/orders/place";
  const std::string socket_target = "/ws?access_token=" + token;
  const json place_body{{"paymentMethodId", "pm_card_visa"}};
};

/// Connects a buyer's socket for its live order updates.
inline net::awaitable<void> open_socket(beast::websocket::stream<tcp::socket>& ws,
                                        const tcp::endpoint& node, const buyer_calls& calls) {
  co_await ws.next_layer().async_connect(node, net::use_awaitable);
  co_await ws.async_handshake(calls.host, calls.socket_target, net::use_awaitable);
}

/// The q-quantile of sorted values (0 when empty).
inline double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty())
    return 0.0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * sorted.size()))];
}

} // namespace load
