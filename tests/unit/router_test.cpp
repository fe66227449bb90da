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
  CHECK(proxies.client_of("127.0.0.1", "2001:db8::1, fd00::7") == "2001:db8::1");
  CHECK(proxies.client_of("::ffff:127.0.0.1", "8.8.8.8") == "8.8.8.8"); // IPv4-mapped peer
  CHECK_FALSE(parse_cidr("10.0.0.0/33"));
  CHECK_FALSE(parse_cidr("10.0.0/8"));
  CHECK_FALSE(parse_cidr("::1/129"));
  CHECK_FALSE(parse_cidr("10.0.0.0/"));
  CHECK(parse_cidr("::1")->prefix == 128);
  CHECK(parse_cidr("192.168.0.0/16")->prefix == 112);
}
