// What the HTTP handlers may ask of the actor system, without CAF in sight.
// Every call is asynchronous and never blocks the calling (I/O) thread; the
// callback runs exactly once, on an actor thread, with errc::none or the
// error (timeout when the actor did not answer in time).
#pragma once

#include "actors/errc.hpp"
#include "actors/records.hpp"
#include "actors/views.hpp"

#include <functional>
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
};

class backend {
public:
  virtual ~backend() = default;

  virtual void cart(const std::string& user, cart_command cmd, done_fn<cart_view> done) = 0;
  virtual void stock(product_id product, stock_command cmd, done_fn<stock_view> done) = 0;

  virtual void register_user(user_record user, done_fn<user_record> done) = 0;
  virtual void find_user_by_email(const std::string& email, done_fn<user_record> done) = 0;
  virtual void find_user(const std::string& id, done_fn<user_record> done) = 0;
  virtual void store_refresh(const std::string& token_hash, const std::string& user,
                             std::int64_t expires_at_ms, done_fn<bool> done) = 0;
  virtual void rotate_refresh(const std::string& old_hash, const std::string& new_hash,
                              std::int64_t expires_at_ms, done_fn<user_record> done) = 0;
  virtual void revoke_refresh(const std::string& user, done_fn<bool> done) = 0;

  virtual void create_product(product_record p, done_fn<product_record> done) = 0;
  virtual void update_product(product_record p, done_fn<product_record> done) = 0;
  virtual void delete_product(std::int64_t id, done_fn<bool> done) = 0;

  /// True while the actor system and persistence are up (readiness).
  virtual bool ready() const = 0;
};

} // namespace emporium::http
