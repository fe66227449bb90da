// The fingerprint of Emporium's messages (see wire_protocol.hpp): computed
// from the one type-id block every node registers (protocol.hpp).
#include "actors/wire_protocol.hpp"

#include "actors/protocol.hpp"
#include "actors/wire_schema.hpp"

#include "actors/accounts/accounts_interface.hpp"
#include "actors/cart/cart_interface.hpp"
#include "actors/catalog/catalog_interface.hpp"
#include "actors/order/order_index_interface.hpp"
#include "actors/order/order_interface.hpp"
#include "actors/payment/payment_interface.hpp"
#include "actors/stock/stock_interface.hpp"
#include "actors/store_interface.hpp"
#include "domain/shard_map.hpp"

#include <fmt/format.h>

#include <utility>

namespace emporium {

namespace {

template <caf::type_id_t Id>
void describe_type(std::string& out) {
  using type = typename caf::type_by_id<Id>::type;
  out += caf::type_name_by_id<Id>::value;
  out += ' ';
  out += wire::schema_of<type>();
  out += '\n';
}

template <caf::type_id_t... Offsets>
void describe_block(std::string& out, std::integer_sequence<caf::type_id_t, Offsets...>) {
  (describe_type<caf::id_block::emporium::begin + Offsets>(out), ...);
}

} // namespace

std::string wire_schema_text() {
  using block = caf::id_block::emporium;
  std::string out = fmt::format("revision {}\n", wire_revision);
  describe_block(out, std::make_integer_sequence<caf::type_id_t, block::end - block::begin>{});
  return out;
}

std::string wire_fingerprint() {
  static const std::string fingerprint =
    fmt::format("{:016x}", cluster::stable_hash(wire_schema_text()));
  return fingerprint;
}

} // namespace emporium
