// What the HTTP fuzz targets run the real router and handlers against: an
// in-process backend that answers every call at once (carts follow the real
// cart_rules, everything else a fixed answer), a catalog with two products,
// and helpers to run one request to its answer. A harness, not a stand-in
// for production: the code under test is the edge's decoding and handling.
#pragma once

#include "http/api_context.hpp"
#include "http/backend.hpp"
#include "http/router.hpp"

#include <memory>
#include <string>

namespace emporium::fuzz {

class instant_backend final : public http::backend {
public:
  void cart(const std::string& user, http::cart_command cmd,
            http::done_fn<cart_view> done) override;
  void stock(product_id, http::stock_command cmd, http::done_fn<stock_view> done) override;
  void register_user(user_record user, http::done_fn<user_record> done) override;
  void begin_login(const std::string& email, const std::string& address,
                   http::done_fn<login_admission> done) override;
  void end_login(const std::string& email, const std::string& address, login_outcome outcome,
                 http::done_fn<bool> done) override;
  void admit_registration(const std::string& address, http::done_fn<std::uint32_t> done) override;
  void admit_login_from(const std::string& address, http::done_fn<std::uint32_t> done) override;
  void end_login_from(const std::string& address, login_outcome outcome,
                      http::done_fn<bool> done) override;
  void find_user(const std::string& id, http::done_fn<user_record> done) override;
  void store_refresh(const std::string&, const std::string&, std::int64_t,
                     http::done_fn<bool> done) override;
  void rotate_refresh(const std::string& user, const std::string&, const std::string&,
                      std::int64_t, http::done_fn<user_record> done) override;
  void revoke_refresh(const std::string&, http::done_fn<bool> done) override;
  void create_product(product_record p, http::done_fn<product_record> done) override;
  void update_product(product_record p, http::done_fn<product_record> done) override;
  void delete_product(std::int64_t, http::done_fn<bool> done) override;
  void place_order(const std::string&, const std::string&, const std::string&,
                   std::optional<order_state> draft, const std::string& answer,
                   http::done_fn<std::string> done) override;
  void order_history(const std::string&, http::done_fn<std::vector<order_state>> done) override;
  void find_order(std::int64_t id, http::done_fn<found_order> done) override;
  void cancel_order(std::int64_t, http::done_fn<order_state> done) override;
  void check_order_payment(std::int64_t, http::done_fn<order_state> done) override;
  void payment_notice(std::int64_t, emporium::payment_notice n,
                      http::done_fn<std::string> done) override;
  void events_since(const std::string&, std::int64_t,
                    http::done_fn<event_page> done) override;
  bool ready() const override { return true; }
  std::string payment_breaker() const override { return "closed"; }
  http::cluster_info cluster() const override { return {}; }
  void cluster_status(const std::string&, http::done_fn<cluster_view> done) override;
  void node_stats(http::done_fn<std::vector<emporium::node_stats>> done) override;

  /// Forgets carts between inputs, so each input runs alone.
  void reset() { carts_.clear(); }

private:
  std::map<std::string, cart_state> carts_;
};

/// The router with every route, over the instant backend; built once.
/// The payment webhook's signing secret in the fuzzed edge.
inline constexpr std::string_view webhook_secret = "whsec_fuzz";

struct edge {
  edge();
  instant_backend backend;
  catalog_view catalog;
  http::password_hasher hasher;
  http::api_context ctx;
  http::router routes;
  std::string user_token;  ///< a valid access token of a customer
  std::string admin_token; ///< and of an admin
};

edge& shared_edge();

/// Dispatches `req` and waits for its answer (handlers that hash a password
/// answer from the hasher's thread). Checks what every answer must be: a
/// status from 100 to 599, and JSON that parses when it says it is JSON.
http::response run(edge& e, http::request& req);

} // namespace emporium::fuzz
