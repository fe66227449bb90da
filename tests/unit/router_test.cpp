// Routing rules: case-insensitive paths, literals before placeholders,
// 404 vs 405, and the static fallback only outside /api/.
#include "http/router.hpp"

#include <doctest/doctest.h>

using namespace emporium::http;

namespace {
response run(const router& r, std::string method, std::string path) {
  request req;
  req.method = std::move(method);
  req.path = std::move(path);
  response out;
  r.dispatch(req, [&](response res) { out = std::move(res); });
  return out;
}
response named(std::string name) {
  response res;
  res.body = std::move(name);
  return res;
}
} // namespace

TEST_CASE("routing") {
  router r;
  r.add("GET", "/api/products/{id}", [](request& req, responder respond) {
    respond(named("one:" + req.params.at(0)));
  });
  r.add("GET", "/api/products/categories", [](request&, responder respond) {
    respond(named("categories"));
  });
  r.add("POST", "/api/products", [](request&, responder respond) { respond(named("create")); });
  CHECK(run(r, "GET", "/API/Products/Categories").body == "categories");
  CHECK(run(r, "GET", "/api/products/42").body == "one:42");
  CHECK(run(r, "POST", "/api/Products/").body == "create");
  CHECK(run(r, "GET", "/api/products").status == 405);
  CHECK(run(r, "GET", "/api/nothing").status == 404);
  CHECK(run(r, "DELETE", "/api/products/categories").status == 405);
  CHECK(run(r, "GET", "/shop/cart").status == 404);
  r.set_fallback([](request&, responder respond) { respond(named("static")); });
  CHECK(run(r, "GET", "/shop/cart").body == "static");
  CHECK(run(r, "GET", "/api/nothing").status == 404);
  CHECK(run(r, "POST", "/shop/cart").status == 404);
  // Read as the routes are: any case, empty segments skipped.
  CHECK(run(r, "GET", "//api//nothing").status == 404);
  CHECK(run(r, "GET", "/API/nothing").status == 404);
  CHECK(run(r, "GET", "//API").status == 404);
  CHECK(run(r, "GET", "/apiary").body == "static");
  CHECK(run(r, "GET", "//api//products/7").body == "one:7");
}

#include "http/client_address.hpp"

TEST_CASE("X-Forwarded-For is believed only from trusted proxies, right to left") {
  using emporium::http::parse_cidr;
  using emporium::http::trusted_proxies;
  trusted_proxies none;
  CHECK(none.client_of("127.0.0.2", "9.9.9.9") == "127.0.0.2");
  trusted_proxies proxies{{*parse_cidr("127.0.0.1/32"), *parse_cidr("10.0.0.0/8"),
                           *parse_cidr("fd00::/8")}};
  // A client connecting directly cannot claim another address.
  CHECK(proxies.client_of("127.0.0.2", "1.2.3.4") == "127.0.0.2");
  // Through the proxy: the right-most untrusted entry; forged ones to its left are ignored.
  CHECK(proxies.client_of("127.0.0.1", "6.6.6.6, 127.0.0.3") == "127.0.0.3");
  CHECK(proxies.client_of("127.0.0.1", "127.0.0.3,10.1.2.3") == "127.0.0.3");
  CHECK(proxies.client_of("127.0.0.1", "") == "127.0.0.1");
  CHECK(proxies.client_of("127.0.0.1", "10.0.0.5") == "10.0.0.5"); // every hop trusted
  CHECK(proxies.client_of("127.0.0.1", "garbage") == "127.0.0.1"); // the hop that wrote it
  CHECK(proxies.client_of("127.0.0.1", "2001:db8::1, fd00::7") == "2001:db8::/64");
  CHECK(proxies.client_of("::ffff:127.0.0.1", "8.8.8.8") == "8.8.8.8"); // IPv4-mapped peer
  CHECK(proxies.client_of("127.0.0.1", "[2001:db8:0:1::9]") == "2001:db8:0:1::/64");
  CHECK_FALSE(parse_cidr("10.0.0.0/33"));
  CHECK_FALSE(parse_cidr("10.0.0/8"));
  CHECK_FALSE(parse_cidr("::1/129"));
  CHECK_FALSE(parse_cidr("10.0.0.0/"));
  CHECK(parse_cidr("::1")->prefix == 128);
  CHECK(parse_cidr("192.168.0.0/16")->prefix == 112);
}

TEST_CASE("a client is its IPv4 address or its IPv6 network, whatever the text's form") {
  using emporium::http::client_key;
  using emporium::http::parse_cidr;
  using emporium::http::trusted_proxies;
  // IPv4, also as IPv4-mapped IPv6 (a dual-stack socket's peer): the address.
  CHECK(client_key("203.0.113.7", 64) == "203.0.113.7");
  CHECK(client_key("::ffff:203.0.113.7", 64) == "203.0.113.7");
  CHECK(client_key("::FFFF:cb00:7107", 64) == "203.0.113.7");
  // IPv6: every address of a /64 is one client; the next /64 is another.
  auto one = client_key("2001:db8:1:2::1", 64);
  CHECK(one == "2001:db8:1:2::/64");
  CHECK(client_key("2001:0db8:0001:0002:ffff:ffff:ffff:ffff", 64) == one);
  CHECK(client_key("[2001:db8:1:2:abcd::7]", 64) == one);
  CHECK(client_key("2001:db8:1:3::1", 64) != one);
  // Wider networks when configured, bits cut inside a byte too.
  CHECK(client_key("2001:db8:1:2ff::1", 56) == "2001:db8:1:200::/56");
  CHECK(client_key("2001:db8:1:2ff::1", 60) == "2001:db8:1:2f0::/60");
  CHECK(client_key("2001:db8:abcd:12::1", 48) == client_key("2001:db8:abcd:ff::2", 48));
  CHECK(client_key("2001:db8::1", 128) == "2001:db8::1");
  CHECK(client_key("::1", 64) == "::/64");
  // Text that is no address (an unknown peer) stays as it is.
  CHECK(client_key("", 64).empty());
  CHECK(client_key("not-an-ip", 64) == "not-an-ip");
  // The proxies' answers are keys too, with their configured prefix.
  trusted_proxies wide{{*parse_cidr("127.0.0.1/32")}, 48};
  CHECK(wide.client_of("127.0.0.1", "2001:db8:abcd:12::1") == "2001:db8:abcd::/48");
  CHECK(wide.client_of("2001:db8:abcd:12::1", "") == "2001:db8:abcd::/48");
  CHECK(wide.key_of("127.0.0.2") == "127.0.0.2");
  // A connection's own key, worked out once, answers for its requests
  // without a believed X-Forwarded-For; one believed names its client.
  CHECK(wide.client_of("127.0.0.2", "peer-key", "") == "peer-key");
  CHECK(wide.client_of("127.0.0.2", "peer-key", "198.51.100.1") == "peer-key"); // not trusted
  CHECK(wide.client_of("127.0.0.1", "peer-key", "198.51.100.1") == "198.51.100.1");
}

