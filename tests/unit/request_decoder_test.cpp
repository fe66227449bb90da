// Target parsing, header folding and the refusals of the request decoder,
// and the edge's CORS rules: the pieces of the HTTP session that need no
// socket.
#include "http/cors.hpp"
#include "http/request_decoder.hpp"

#include <doctest/doctest.h>

using namespace emporium::http;
namespace bhttp = boost::beast::http;

namespace {

bhttp::request<bhttp::string_body> raw(std::string target) {
  bhttp::request<bhttp::string_body> msg{bhttp::verb::get, target, 11};
  return msg;
}

} // namespace

TEST_CASE("a target splits into a decoded path and a lower-cased, decoded query") {
  request req;
  REQUIRE(parse_target("/api/products/caf%C3%A9?PageSize=10&q=tea+pot&flag&=x", req));
  CHECK(req.path == "/api/products/caf\xC3\xA9");
  CHECK(req.query.at("pagesize") == "10");
  CHECK(req.query.at("q") == "tea pot"); // '+' is a space in a query only
  CHECK(req.query.at("flag").empty());
  CHECK(req.query.count("") == 0); // an empty name is dropped
  request plus;
  REQUIRE(parse_target("/a+b", plus));
  CHECK(plus.path == "/a+b");
}

TEST_CASE("malformed targets are refused") {
  for (const char* bad : {"", "api/products", "/bad%2", "/bad%zz", "/nul%00byte", "/ok?x=%G1"}) {
    CAPTURE(bad);
    request req;
    CHECK_FALSE(parse_target(bad, req));
  }
  CHECK(url_decode("%41%62", false) == std::optional<std::string>{"Ab"});
  CHECK_FALSE(url_decode("%4", false).has_value());
}

TEST_CASE("decode_request: headers lower-cased, repeats joined or refused, odd codings 501") {
  auto msg = raw("/api/cart?x=1");
  msg.insert("X-Thing", "a");
  msg.insert("x-thing", "b");
  auto decoded = decode_request(msg, "10.0.0.1", trusted_proxies{});
  REQUIRE(std::holds_alternative<request>(decoded));
  auto& req = std::get<request>(decoded);
  CHECK(req.header("x-thing") == "a, b");
  CHECK(req.client == "10.0.0.1");

  auto twice = raw("/api/cart");
  twice.insert("Authorization", "Bearer a");
  twice.insert("Authorization", "Bearer b");
  auto refused = decode_request(twice, "10.0.0.1", trusted_proxies{});
  REQUIRE(std::holds_alternative<response>(refused));
  CHECK(std::get<response>(refused).status == 400);

  auto smuggle = raw("/api/cart");
  smuggle.insert("Transfer-Encoding", "xchunked");
  auto coding = decode_request(smuggle, "10.0.0.1", trusted_proxies{});
  REQUIRE(std::holds_alternative<response>(coding));
  CHECK(std::get<response>(coding).status == 501);

  auto bad_target = raw("/x%zz");
  auto target = decode_request(bad_target, "10.0.0.1", trusted_proxies{});
  REQUIRE(std::holds_alternative<response>(target));
  CHECK(std::get<response>(target).status == 400);
}

TEST_CASE("CORS: only listed origins read answers; a preflight names what may be sent") {
  std::vector<std::string> allowed{"http://shop.example"};
  CHECK(cors_headers(allowed, "http://evil.example").empty());
  CHECK(cors_headers(allowed, "").empty());
  auto ok = cors_headers(allowed, "http://shop.example");
  REQUIRE(ok.size() == 4);
  CHECK(ok[0] == std::make_pair(std::string{"Access-Control-Allow-Origin"},
                                std::string{"http://shop.example"}));
  CHECK(origin_allowed({"*"}, "http://any.example"));
  auto pre = preflight_response();
  CHECK(pre.status == 204);
  CHECK(pre.content_type.empty());
  bool idempotency_key_allowed = false;
  for (const auto& [name, value] : pre.headers)
    if (name == "Access-Control-Allow-Headers")
      idempotency_key_allowed = value.find("Idempotency-Key") != std::string::npos;
  CHECK(idempotency_key_allowed);
}

TEST_CASE("a traceparent is continued; a bad or repeated one starts a new trace, never a 400") {
  const std::string caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto with = raw("/api/products");
  with.set("traceparent", caller);
  auto continued = std::get<request>(decode_request(with, "10.0.0.1", trusted_proxies{}));
  CHECK(emporium::trace::trace_id_hex(continued.trace) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(continued.trace_parent == 0x00f067aa0ba902b7ULL);
  CHECK(continued.trace.span != continued.trace_parent);

  for (const std::string& bad : {std::string{"garbage"}, std::string(4000, 'a'),
                                std::string{"ff"} + caller.substr(2)}) {
    auto msg = raw("/api/products");
    msg.set("traceparent", bad);
    auto decoded = decode_request(msg, "10.0.0.1", trusted_proxies{});
    REQUIRE(std::holds_alternative<request>(decoded));
    auto& req = std::get<request>(decoded);
    CHECK(req.trace.valid());
    CHECK(req.trace_parent == 0);
    CHECK(emporium::trace::trace_id_hex(req.trace) != "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  auto twice = raw("/api/products");
  twice.insert("traceparent", caller);
  twice.insert("traceparent", caller);
  auto repeated = std::get<request>(decode_request(twice, "10.0.0.1", trusted_proxies{}));
  CHECK(repeated.trace_parent == 0);
  auto bare = raw("/");
  auto none = std::get<request>(decode_request(bare, "10.0.0.1", trusted_proxies{}));
  CHECK(none.trace.valid());
  CHECK(none.trace_parent == 0);
}

TEST_CASE("a request came over TLS only when a trusted proxy says https") {
  trusted_proxies proxy{{*parse_cidr("10.0.0.0/8")}};
  auto over = [&](const char* peer, const char* proto) {
    auto msg = raw("/api/auth/login");
    if (proto)
      msg.insert("X-Forwarded-Proto", proto);
    auto decoded = decode_request(msg, peer, proxy);
    REQUIRE(std::holds_alternative<request>(decoded));
    return std::get<request>(decoded).over_tls;
  };
  CHECK(over("10.0.0.1", "https"));
  CHECK(over("10.0.0.1", " HTTPS "));
  CHECK(over("10.0.0.1", "https, http")); // the first proxy is the one the client met
  CHECK_FALSE(over("10.0.0.1", "http"));
  CHECK_FALSE(over("10.0.0.1", "http, https"));
  CHECK_FALSE(over("10.0.0.1", "httpsx"));
  CHECK_FALSE(over("10.0.0.1", ""));
  CHECK_FALSE(over("10.0.0.1", nullptr));
  CHECK_FALSE(over("192.0.2.1", "https")); // anyone may write the header
}
