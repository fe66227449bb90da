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
}
