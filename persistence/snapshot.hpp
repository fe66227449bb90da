// An entity's state as the store keeps it. Entities make and read snapshots
// on their own threads (the store's single writer thread only writes); the
// encoding inside (JSON text, keys in snapshot_keys.def) is persistence's
// alone: outside it, a snapshot is an opaque value.
#pragma once

#include "domain/cart_rules.hpp"
#include "domain/order_rules.hpp"
#include "domain/stock_rules.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace emporium::persistence {

class snapshot {
public:
  snapshot() = default; ///< none: the entity has no state yet
  bool empty() const { return text_.empty(); }
  std::size_t bytes() const { return text_.size(); }

private:
  friend struct snapshot_access;
  std::string text_;
};

snapshot snapshot_of(const cart_state& cart);
snapshot snapshot_of(const stock_state& stock);
snapshot snapshot_of(const order_state& order);

/// nullopt when the snapshot does not hold a valid state of that kind (the
/// entity then refuses to start rather than serve an empty cart in place of
/// a real one).
std::optional<cart_state> read_cart(const snapshot& s);
std::optional<stock_state> read_stock(const snapshot& s);
std::optional<order_state> read_order(const snapshot& s);

/// Inside persistence (and its tests): the text a snapshot stands for.
struct snapshot_access {
  static const std::string& text(const snapshot& s) { return s.text_; }
  static snapshot make(std::string text) {
    snapshot s;
    s.text_ = std::move(text);
    return s;
  }
};

} // namespace emporium::persistence
