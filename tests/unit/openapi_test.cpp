// Keeps http/openapi.yaml true: every route the router knows is documented
// (path and method), and the document names no route that does not exist.
#include "http/api_context.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace emporium;
using namespace emporium::http;

namespace {

/// Routes are only enumerated here; a handler that ran would fail the test.
struct unreachable_backend final : backend {
  [[noreturn]] static void called() {
    FAIL("a handler ran during route enumeration");
    std::abort();
  }
  void cart(const std::string&, cart_command, done_fn<cart_view>) override { called(); }
  void stock(product_id, stock_command, done_fn<stock_view>) override { called(); }
  void register_user(user_record, done_fn<user_record>) override { called(); }
  void begin_login(const std::string&, const std::string&, done_fn<login_admission>) override {
    called();
  }
  void end_login(const std::string&, const std::string&, login_outcome, done_fn<bool>) override {
    called();
  }
  void admit_registration(const std::string&, done_fn<std::uint32_t>) override { called(); }
  void admit_login_from(const std::string&, done_fn<std::uint32_t>) override { called(); }
  void end_login_from(const std::string&, login_outcome, done_fn<bool>) override { called(); }
  void find_user(const std::string&, done_fn<user_record>) override { called(); }
  void store_refresh(const std::string&, const std::string&, std::int64_t,
                     done_fn<bool>) override { called(); }
  void rotate_refresh(const std::string&, const std::string&, const std::string&, std::int64_t,
                      done_fn<user_record>) override { called(); }
  void revoke_refresh(const std::string&, done_fn<bool>) override { called(); }
  void create_product(product_record, done_fn<product_record>) override { called(); }
  void update_product(product_record, done_fn<product_record>) override { called(); }
  void delete_product(std::int64_t, done_fn<bool>) override { called(); }
  void place_order(const std::string&, const std::string&, const std::string&,
                   std::optional<order_state>, const std::string&,
                   done_fn<std::string>) override {
    called();
  }
  void order_history(const std::string&, done_fn<std::vector<order_state>>) override {
    called();
  }
  void find_order(std::int64_t, done_fn<found_order>) override { called(); }
  void cancel_order(std::int64_t, done_fn<order_state>) override { called(); }
  void check_order_payment(std::int64_t, done_fn<order_state>) override { called(); }
  void payment_notice(std::int64_t, emporium::payment_notice, done_fn<std::string>) override {
    called();
  }
  void events_since(const std::string&, std::int64_t,
                    done_fn<event_page>) override { called(); }
  bool ready() const override { return false; }
  std::string payment_breaker() const override { return "closed"; }
  cluster_info cluster() const override { return {}; }
  void cluster_status(const std::string&, done_fn<cluster_view>) override { called(); }
  void node_stats(done_fn<std::vector<emporium::node_stats>>) override { called(); }
};

/// "METHOD /path" pairs from the YAML's paths section (2-space path keys,
/// 4-space method keys), read without a YAML library.
std::set<std::string> documented_operations(const std::string& file) {
  std::ifstream in(file);
  REQUIRE(in.good());
  std::set<std::string> ops;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths)
      continue;
    if (line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      continue;
    }
    for (const char* m : {"get", "post", "put", "delete", "patch"}) {
      auto prefix = std::string{"    "} + m + ":";
      if (line.rfind(prefix, 0) == 0)
        ops.insert(to_lower(std::string{m}) + " " + to_lower(path));
    }
  }
  return ops;
}

} // namespace

TEST_CASE("every route is in openapi.yaml and every documented route exists") {
  unreachable_backend actors;
  catalog_view catalog;
  password_hasher hasher{1};
  api_context ctx{actors, catalog, {"secret", "emporium"}, hasher,
                  auth_limits{1, 1, 1}, 15, 7, "."};
  router routes;
  add_all_routes(routes, ctx);
  std::set<std::string> known;
  for (const auto& r : routes.routes())
    known.insert(to_lower(r.method) + " " + to_lower(r.pattern));
  auto documented = documented_operations(EMPORIUM_SOURCE_DIR "/http/openapi.yaml");
  REQUIRE(known.size() >= 25);
  for (const auto& op : known)
    CHECK_MESSAGE(documented.count(op) == 1, "undocumented route: " << op);
  for (const auto& op : documented)
    CHECK_MESSAGE(known.count(op) == 1, "documented but not routed: " << op);
}
