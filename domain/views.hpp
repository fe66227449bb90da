// What entity actors answer, as plain structs (the HTTP edge uses them
// without including CAF; protocol.hpp adds their inspect overloads).
#pragma once

#include "domain/cart_rules.hpp"
#include "domain/order_rules.hpp"
#include "domain/stock_rules.hpp"
#include "support/metrics.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace emporium {

/// A cart as the cart actor answers it.
struct cart_view {
  std::vector<cart_line> lines;
  cents total = 0;
};

/// The answer for `cart`: its lines and their total.
inline cart_view view_of(const cart_state& cart) {
  return cart_view{{cart.lines.begin(), cart.lines.end()}, cart_total(cart)};
}

/// A stock record as the stock actor answers it.
struct stock_view {
  std::int64_t on_hand = 0;
  std::int64_t available = 0;
  std::int64_t reserved = 0;
  std::int64_t sold = 0;
};

/// Answer to a reservation request.
struct reserve_reply {
  reserve_status status = reserve_status::insufficient;
  std::int64_t available = 0;
};

/// Answer of the payment actor to a charge: approved, or declined with the
/// provider's reason. (Unavailable providers answer an errc error instead.)
struct payment_reply {
  bool approved = false;
  std::string reason;
  std::string payment_id;
  /// Not approved yet: the card asks its holder to authenticate, and this
  /// is what the buyer's browser needs for it (Stripe's client secret).
  std::string action_secret;
};

/// An order found by id: whose it is, and the order.
struct found_order {
  std::string user;
  order_state order;
};

/// One member as GET /api/cluster shows it.
struct member_view {
  /// incompatible: reachable, but its build's messages differ from ours
  /// (wire fingerprint), so neither side takes the other in.
  enum class state : std::uint8_t { up, down, unreachable, incompatible };
  state status = state::up;
  std::string name;    ///< "" for a seed never reached (down)
  std::string address; ///< host:port, or "self" for the node asked
  std::vector<std::uint32_t> shards; ///< owned and open (up only)
  std::uint64_t entities = 0;        ///< resident across those shards (up only)
};

/// GET /api/cluster: the asked node's view of the cluster.
struct cluster_view {
  std::string node;
  std::string wire; ///< the asked node's wire fingerprint
  bool quorum = false;
  std::uint32_t configured_members = 0;
  std::uint32_t live_members = 0;
  std::vector<std::string> owners; ///< by shard: the owner's name, "" for none
  std::vector<member_view> members;
  std::int64_t user_shard = -1; ///< asked with a user id: the shard of its cart and orders
};

/// One member's part of GET /api/admin/stats: the figures of its metrics
/// registry that the operations page shows.
struct node_stats {
  std::string node;
  bool reachable = true; ///< false: the member did not answer in time
  std::int64_t unix_ms = 0;
  std::vector<metrics::point> points;
};

/// Counters the directory answers to `(atoms::stats)`.
struct directory_stats {
  std::uint64_t resident = 0;
  std::uint64_t activations = 0;
  std::uint64_t passivations = 0;
  std::uint64_t restarts = 0;
};

} // namespace emporium
