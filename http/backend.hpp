// What the HTTP handlers may ask of the actor system, without CAF in sight.
// Every call is asynchronous and never blocks the calling (I/O) thread; the
// callback runs exactly once, on an actor thread, with errc::none or the
// error (timeout when the actor did not answer in time).
#pragma once

#include "domain/errc.hpp"
#include "domain/records.hpp"
#include "domain/views.hpp"
#include "domain/order_event.hpp"

#include <functional>
#include <optional>
#include <string>

namespace emporium::http {

template <class T>
using done_fn = std::function<void(errc, T)>;

struct cart_command {
  enum class op { get, add, set, remove, clear } what = op::get;
  product_id product = 0;
  std::int32_t quantity = 0;
  cents price = 0;
  std::string name;
  std::int64_t limit = max_line_quantity; // stock available when checked
};

struct stock_command {
  enum class op { get, set, adjust } what = op::get;
  std::int64_t value = 0;
  /// adjust: its id, applied once (stock_rules.hpp); 0 draws a new one.
  adjustment_op id = 0;
};

struct cluster_info {
  bool quorum = true; ///< false: this node reaches no majority and refuses writes
  std::uint32_t live_members = 1;
  std::uint32_t owned_shards = 0;
  std::uint32_t ready_shards = 0;
};

class backend {
public:
  virtual ~backend() = default;

  virtual void cart(const std::string& user, cart_command cmd, done_fn<cart_view> done) = 0;
  virtual void stock(product_id product, stock_command cmd, done_fn<stock_view> done) = 0;

  virtual void register_user(user_record user, done_fn<user_record> done) = 0;
  /// A login's first step at the account's shard (begin_login): admitted
  /// or not within the per-(address, account) allowance, with the account.
  virtual void begin_login(const std::string& email, const std::string& address,
                           done_fn<login_admission> done) = 0;
  /// A registration from client `address`, counted where every node counts
  /// that address's (admit_registration): 0 when admitted, else the seconds
  /// to wait.
  virtual void admit_registration(const std::string& address, done_fn<std::uint32_t> done) = 0;
  /// A login from client `address` on any account, counted where every
  /// node counts that address's (admit_login_from): 0 when admitted, else
  /// the seconds to wait.
  virtual void admit_login_from(const std::string& address, done_fn<std::uint32_t> done) = 0;
  /// How a login admitted by admit_login_from ended (end_login_from).
  virtual void end_login_from(const std::string& address, login_outcome outcome,
                              done_fn<bool> done) = 0;
  /// How a begun login ended (end_login).
  virtual void end_login(const std::string& email, const std::string& address,
                         login_outcome outcome, done_fn<bool> done) = 0;
  virtual void find_user(const std::string& id, done_fn<user_record> done) = 0;
  virtual void store_refresh(const std::string& token_hash, const std::string& user,
                             std::int64_t expires_at_ms, done_fn<bool> done) = 0;
  /// `user`: the id the presented token names (its shard holds the token).
  virtual void rotate_refresh(const std::string& user, const std::string& old_hash,
                              const std::string& new_hash,
                              std::int64_t expires_at_ms, done_fn<user_record> done) = 0;
  virtual void revoke_refresh(const std::string& user, done_fn<bool> done) = 0;

  virtual void create_product(product_record p, done_fn<product_record> done) = 0;
  virtual void update_product(product_record p, done_fn<product_record> done) = 0;
  virtual void delete_product(std::int64_t id, done_fn<bool> done) = 0;

  /// Places an order durably (see actors/order/order_index_actor.hpp);
  /// answers the stored JSON answer, or conflict for a reused key.
  /// Without a draft, only looks the key up (not_found when it is new).
  virtual void place_order(const std::string& user, const std::string& key,
                           const std::string& request_hash, std::optional<order_state> draft,
                           const std::string& answer, done_fn<std::string> done) = 0;
  virtual void order_history(const std::string& user,
                             done_fn<std::vector<order_state>> done) = 0;
  /// The order and its owner's user id.
  virtual void find_order(std::int64_t id, done_fn<found_order> done) = 0;
  /// Cancels through the order's saga; answers the cancelled order.
  virtual void cancel_order(std::int64_t id, done_fn<order_state> done) = 0;
  /// After the buyer's browser ran a card's authentication: the saga asks
  /// the provider; answers the order as it then stands.
  virtual void check_order_payment(std::int64_t id, done_fn<order_state> done) = 0;
  /// A payment provider's notice for an order's saga; answers its effect
  /// (notice_effect_name), not_found for an unknown order.
  virtual void payment_notice(std::int64_t order, emporium::payment_notice n,
                              done_fn<std::string> done) = 0;
  /// The user's events after `seq`, or a reset when some were pruned.
  virtual void events_since(const std::string& user, std::int64_t seq,
                            done_fn<event_page> done) = 0;

  /// True while the actor system and persistence are up (readiness).
  virtual bool ready() const = 0;

  /// closed | open | half_open (the payment provider's circuit breaker).
  virtual std::string payment_breaker() const = 0;

  /// This node's view of the cluster (a single node is a cluster of one).
  virtual cluster_info cluster() const = 0;
  /// Members, their shards and entity counts, and every shard's owner (JSON).
  /// With `locate_user` (not empty), also the shard of that user's data.
  virtual void cluster_status(const std::string& locate_user, done_fn<cluster_view> done) = 0;
  /// Every member's figures for the operations page.
  virtual void node_stats(done_fn<std::vector<emporium::node_stats>> done) = 0;
};

} // namespace emporium::http
