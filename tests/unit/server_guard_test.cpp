// The edge's last-resort guards over real sockets: a handler that throws
// answers its request with a 500 {message, code} and the server goes on; a
// WebSocket endpoint that throws gets its connection closed with 1011 and
// the others carry on.
#include "http/server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

using namespace emporium::http;
namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

struct get_result {
  unsigned status = 0;
  std::string body;
};

get_result http_get(std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  stream.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target, 11};
  req.set(beast::http::field::host, "127.0.0.1");
  beast::http::write(stream, req);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res);
  return {res.result_int(), res.body()};
}

/// Echoes text; throws on "boom" (a bug in an endpoint).
struct echo_endpoint final : ws_endpoint {
  std::shared_ptr<ws_sender> out;
  void on_open(std::shared_ptr<ws_sender> sender) override { out = std::move(sender); }
  void on_text(const std::string& text) override {
    if (text == "boom")
      throw std::runtime_error("endpoint bug");
    out->send(text);
  }
  void on_close() override {}
};

struct running_server {
  router routes;
  std::unique_ptr<server> edge;
  std::uint16_t port = 0;

  running_server() {
    routes.add("GET", "/ok", [](request&, responder respond) {
      response res;
      res.body = R"({"fine":true})";
      respond(std::move(res));
    });
    routes.add("GET", "/throws", [](request&, responder) {
      throw std::logic_error("handler bug");
    });
    routes.add("GET", "/throws-late", [](request&, responder respond) {
      (void)respond;
      throw nlohmann::json::parse_error::create(101, 1, "late", nullptr);
    });
    server_options opts;
    opts.bind = "127.0.0.1";
    opts.port = 0;
    opts.threads = 2;
    opts.websocket = [](request&) -> ws_decision { return std::make_shared<echo_endpoint>(); };
    edge = std::make_unique<server>(opts, routes);
    port = edge->start();
  }
  ~running_server() { edge->stop(std::chrono::milliseconds(500)); }
};

beast::websocket::stream<tcp::socket> open_ws(net::io_context& ioc, std::uint16_t port) {
  beast::websocket::stream<tcp::socket> ws{ioc};
  ws.next_layer().connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  ws.handshake("127.0.0.1", "/ws");
  return ws;
}

std::string read_text(beast::websocket::stream<tcp::socket>& ws) {
  beast::flat_buffer buffer;
  ws.read(buffer);
  return beast::buffers_to_string(buffer.data());
}

} // namespace

TEST_CASE("a handler that throws answers 500 {message, code}; the server carries on") {
  running_server s;
  for (auto target : {"/throws", "/throws-late"}) {
    auto res = http_get(s.port, target);
    CHECK(res.status == 500);
    auto body = nlohmann::json::parse(res.body);
    CHECK(body["code"] == "internal");
    CHECK(body["message"].is_string());
  }
  auto ok = http_get(s.port, "/ok");
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"fine":true})");
}

TEST_CASE("a WebSocket endpoint that throws closes that connection with 1011 only") {
  running_server s;
  net::io_context ioc;
  auto bystander = open_ws(ioc, s.port);
  auto victim = open_ws(ioc, s.port);
  victim.write(net::buffer(std::string{"boom"}));
  beast::flat_buffer buffer;
  beast::error_code ec;
  victim.read(buffer, ec);
  CHECK(ec == beast::websocket::error::closed);
  CHECK(victim.reason().code == beast::websocket::close_code::internal_error);
  // The other connection and new ones still work.
  bystander.write(net::buffer(std::string{"hello"}));
  CHECK(read_text(bystander) == "hello");
  auto later = open_ws(ioc, s.port);
  later.write(net::buffer(std::string{"again"}));
  CHECK(read_text(later) == "again");
  CHECK(http_get(s.port, "/ok").status == 200);
}
