// Snapshots made and read through the private codec (see snapshot.hpp).
#include "persistence/snapshot.hpp"

#include "persistence/state_codec.hpp"

namespace emporium::persistence {

snapshot snapshot_of(const cart_state& cart) { return snapshot_access::make(encode(cart)); }
snapshot snapshot_of(const stock_state& stock) { return snapshot_access::make(encode(stock)); }
snapshot snapshot_of(const order_state& order) { return snapshot_access::make(encode(order)); }

std::optional<cart_state> read_cart(const snapshot& s) {
  return decode_cart(snapshot_access::text(s));
}
std::optional<stock_state> read_stock(const snapshot& s) {
  return decode_stock(snapshot_access::text(s));
}
std::optional<order_state> read_order(const snapshot& s) {
  return decode_order(snapshot_access::text(s));
}

} // namespace emporium::persistence
