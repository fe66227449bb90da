// The fuzz targets' edge harness (see edge_harness.hpp).
#include "edge_harness.hpp"

#include "support/json_field.hpp"

#include <sodium.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace emporium::fuzz {

void instant_backend::cart(const std::string& user, http::cart_command c,
                           http::done_fn<cart_view> done) {
  auto& cart = carts_[user];
  using op = http::cart_command::op;
  errc ec = errc::none;
  switch (c.what) {
    case op::get: break;
    case op::add: ec = cart_add(cart, c.product, c.quantity, c.price, c.name, c.limit); break;
    case op::set: ec = cart_set(cart, c.product, c.quantity, c.price, c.name, c.limit); break;
    case op::remove: ec = cart_remove(cart, c.product); break;
    case op::clear: cart.lines.clear(); break;
  }
  done(ec, view_of(cart));
}

void instant_backend::stock(product_id, http::stock_command c, http::done_fn<stock_view> done) {
  if (c.value < 0)
    return done(errc::invalid_argument, {});
  done(errc::none, stock_view{c.value, c.value, 0, 0});
}

void instant_backend::register_user(user_record user, http::done_fn<user_record> done) {
  user.id = "0123456789abcdef0123456789abcdef";
  done(errc::none, std::move(user));
}

void instant_backend::begin_login(const std::string&, const std::string&,
                                  http::done_fn<login_admission> done) {
  done(errc::none, login_admission{}); // admitted; no such account
}

void instant_backend::end_login(const std::string&, const std::string&, login_outcome,
                                http::done_fn<bool> done) {
  done(errc::none, true);
}

void instant_backend::admit_registration(const std::string&,
                                         http::done_fn<std::uint32_t> done) {
  done(errc::none, 0); // admitted (the edge's own per-node limit still counts)
}

void instant_backend::admit_login_from(const std::string&, http::done_fn<std::uint32_t> done) {
  done(errc::none, 0); // admitted (the edge's own per-node limit still counts)
}

void instant_backend::end_login_from(const std::string&, login_outcome,
                                     http::done_fn<bool> done) {
  done(errc::none, true);
}

void instant_backend::find_user(const std::string& id, http::done_fn<user_record> done) {
  done(errc::none, user_record{id, "fuzz@example.com", "", "F", "Z", "customer"});
}

void instant_backend::store_refresh(const std::string&, const std::string&, std::int64_t,
                                    http::done_fn<bool> done) {
  done(errc::none, true);
}

void instant_backend::rotate_refresh(const std::string& user, const std::string&,
                                     const std::string&, std::int64_t,
                                     http::done_fn<user_record> done) {
  user_record record;
  record.id = user;
  done(errc::unauthenticated, std::move(record)); // a refresh token never matches here
}

void instant_backend::revoke_refresh(const std::string&, http::done_fn<bool> done) {
  done(errc::none, true);
}

void instant_backend::create_product(product_record p, http::done_fn<product_record> done) {
  p.id = 3;
  done(errc::none, std::move(p));
}

void instant_backend::update_product(product_record p, http::done_fn<product_record> done) {
  done(p.id <= 2 ? errc::none : errc::not_found, std::move(p));
}

void instant_backend::delete_product(std::int64_t id, http::done_fn<bool> done) {
  done(id <= 2 ? errc::none : errc::not_found, id <= 2);
}

void instant_backend::place_order(const std::string&, const std::string&, const std::string&,
                                  std::optional<order_state> draft, const std::string& answer,
                                  http::done_fn<std::string> done) {
  if (!draft) // a lookup of an Idempotency-Key: never used before
    return done(errc::not_found, {});
  auto j = json_read::parse(answer).value_or(nlohmann::json::object());
  j["orderId"] = 1;
  done(errc::none, j.dump());
}

void instant_backend::order_history(const std::string&,
                                    http::done_fn<std::vector<order_state>> done) {
  done(errc::none, {});
}

void instant_backend::find_order(std::int64_t, http::done_fn<found_order> done) {
  done(errc::not_found, {});
}

void instant_backend::cancel_order(std::int64_t, http::done_fn<order_state> done) {
  done(errc::not_found, {});
}

void instant_backend::check_order_payment(std::int64_t, http::done_fn<order_state> done) {
  done(errc::not_found, {});
}

void instant_backend::payment_notice(std::int64_t, emporium::payment_notice n,
                                     http::done_fn<std::string> done) {
  // Echoes what the route made of the event: the fuzzer checks it is one of
  // the kinds the parser can produce.
  done(errc::none, n.event_id.empty() ? "ignored" : "authorized");
}

void instant_backend::events_since(const std::string&, std::int64_t,
                                   http::done_fn<event_page> done) {
  done(errc::none, {});
}

void instant_backend::cluster_status(const std::string&, http::done_fn<cluster_view> done) {
  done(errc::none, {});
}

/// This process's registry, as one node: the stats route's JSON mapping
/// gets real figures to chew on.
void instant_backend::node_stats(http::done_fn<std::vector<emporium::node_stats>> done) {
  done(errc::none, {{"fuzz", true, 1,
                     metrics::default_registry().points({"emporium_http_requests_total",
                                                         "emporium_http_request_duration_seconds"})}});
}

namespace {
bool sodium_ready = sodium_init() >= 0; // before the hasher draws its dummy hash
} // namespace

edge::edge()
  : hasher(1, http::hash_cost::minimal),
    ctx{backend,
        catalog,
        {"fuzz-secret-fuzz-secret-fuzz-secret", "emporium"},
        hasher,
        http::auth_limits{1'000'000, 1'000'000, 1'000'000, 1'000'000},
        15,
        7,
        "/nonexistent-static-dir",
        std::string{webhook_secret}} {
  catalog.reset({product_record{1, "Kettle", "A kettle", 2500, "Kitchen"},
                 product_record{2, "Mug", "A mug", 800, "Kitchen"}},
                {{1, 40}, {2, 5}});
  http::add_all_routes(routes, ctx);
  auto now = http::now_seconds();
  user_token = ctx.tokens.sign({"0123456789abcdef0123456789abcdef", "fuzz@example.com",
                                "customer", now, now + 3600});
  admin_token = ctx.tokens.sign({"fedcba9876543210fedcba9876543210", "admin@example.com",
                                 "admin", now, now + 3600});
}

edge& shared_edge() {
  static edge e;
  return e;
}

http::response run(edge& e, http::request& req) {
  e.backend.reset();
  struct waiter {
    std::mutex m;
    std::condition_variable cv;
    std::optional<http::response> res;
    int answers = 0;
  };
  auto w = std::make_shared<waiter>();
  e.routes.dispatch(req, [w](http::response res) {
    std::lock_guard guard{w->m};
    if (++w->answers == 1)
      w->res = std::move(res);
    w->cv.notify_all();
  });
  std::unique_lock lock{w->m};
  if (!w->cv.wait_for(lock, std::chrono::seconds(10), [&] { return w->res.has_value(); })) {
    std::fprintf(stderr, "no answer for %s %s\n", req.method.c_str(), req.path.c_str());
    std::abort(); // a request that never gets an answer hangs its client
  }
  auto res = *w->res;
  bool valid_status = res.status >= 100 && res.status <= 599;
  // An answer that says JSON must be JSON.
  bool valid_body = res.content_type != "application/json" || json_read::parse(res.body);
  if (!valid_status || !valid_body) {
    std::fprintf(stderr, "bad answer to %s %s: %u %s\n", req.method.c_str(), req.path.c_str(),
                 res.status, res.body.substr(0, 300).c_str());
    std::abort();
  }
  return res;
}

} // namespace emporium::fuzz
