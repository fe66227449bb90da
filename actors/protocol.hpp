// The message vocabulary of Emporium's actors: atoms, message structs and
// their `inspect` overloads, and the one CAF type-ID block every node
// registers (types cross nodes by name, so there is exactly one list).
// Only actor TUs and tests include this header (it pulls in CAF).
#pragma once

#include "domain/cart_rules.hpp"
#include "domain/errc.hpp"
#include "domain/records.hpp"
#include "domain/views.hpp"
#include "actors/accounts/accounts_interface.hpp"
#include "actors/cart/cart_interface.hpp"
#include "actors/catalog/catalog_interface.hpp"
#include "actors/order/order_index_interface.hpp"
#include "actors/order/order_interface.hpp"
#include "actors/stock/stock_interface.hpp"
#include "actors/payment/payment_interface.hpp"
#include "actors/store_interface.hpp"
#include "persistence/entity_store.hpp"
#include "domain/stock_rules.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emporium {

/// What kind of entity an id names. Values are persisted: never renumber.
enum class entity_kind : std::uint8_t { cart = 1, stock = 2, order = 3 };

/// The address of an entity, valid on every node.
struct entity_key {
  entity_kind kind = entity_kind::cart;
  std::string id;
  friend bool operator==(const entity_key&, const entity_key&) = default;
};

/// What a shard service's request is about; the router alone turns it into
/// a shard (callers never compute shards).
struct shard_key {
  enum class by : std::uint8_t { user = 1, email = 2, order = 3, address = 4 };
  by what = by::user;
  std::string id;
};

/// Router to router: `node` has opened `shard` (open) or has begun to drain
/// it (!open). Whoever has a shard open holds its lock and is its only
/// writer, so a router sends there while the owner its own view names is
/// still waiting for that lock (views diverge while nodes join).
struct shard_holding {
  std::uint32_t shard = 0;
  std::string node;
  bool open = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, directory_stats& x) {
  return f(caf::meta::type_name("directory_stats"), x.resident, x.activations,
           x.passivations, x.restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, found_order& x) {
  return f(caf::meta::type_name("found_order"), x.user, x.order);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_view& x) {
  return f(caf::meta::type_name("member_view"), x.status, x.name, x.address, x.shards,
           x.entities);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("cluster_view"), x.node, x.wire, x.quorum, x.configured_members,
           x.live_members, x.owners, x.members, x.user_shard);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_stats& x) {
  return f(caf::meta::type_name("node_stats"), x.node, x.reachable, x.unix_ms, x.points);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_reply& x) {
  return f(caf::meta::type_name("payment_reply"), x.approved, x.reason, x.payment_id,
           x.action_secret);
}

} // namespace emporium

namespace emporium::metrics {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, point& x) {
  return f(caf::meta::type_name("metric_point"), x.name, x.label_names, x.label_values, x.value,
           x.count, x.bounds, x.buckets);
}

} // namespace emporium::metrics

namespace emporium {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_event& x) {
  return f(caf::meta::type_name("order_event"), x.user, x.order, x.status, x.reason, x.at,
           x.total, x.seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_page& x) {
  return f(caf::meta::type_name("event_page"), x.reset, x.resume_from, x.events, x.more_after);
}

} // namespace emporium

namespace emporium {

inline caf::error make_error(errc code) {
  return caf::error{static_cast<std::uint8_t>(code), caf::atom("emporium")};
}

/// Maps any CAF error to our enum (CAF's own timeouts and dead receivers too).
errc to_errc(const caf::error& err);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_key& x) {
  return f(caf::meta::type_name("entity_key"), x.kind, x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_key& x) {
  return f(caf::meta::type_name("shard_key"), x.what, x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_holding& x) {
  return f(caf::meta::type_name("shard_holding"), x.shard, x.node, x.open);
}

/// On the wire a name is its text; a node reading it interns it there.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interned_name& x) {
  std::string text{x.str()};
  return f(text, caf::meta::load_callback([&]() -> caf::error {
             x = interned_name{text};
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_line& x) {
  return f(caf::meta::type_name("cart_line"), x.product, x.quantity, x.unit_price, x.name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_view& x) {
  return f(caf::meta::type_name("cart_view"), x.lines, x.total);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_view& x) {
  return f(caf::meta::type_name("stock_view"), x.on_hand, x.available, x.reserved, x.sold);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_reply& x) {
  return f(caf::meta::type_name("reserve_reply"), x.status, x.available);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_record& x) {
  return f(caf::meta::type_name("user_record"), x.id, x.email, x.password_hash, x.first_name,
           x.last_name, x.role);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, product_record& x) {
  return f(caf::meta::type_name("product_record"), x.id, x.name, x.description, x.price,
           x.category);
}

} // namespace emporium

CAF_BEGIN_TYPE_ID_BLOCK(emporium, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(emporium, (emporium::entity_kind))
  CAF_ADD_TYPE_ID(emporium, (emporium::entity_key))
  CAF_ADD_TYPE_ID(emporium, (emporium::shard_key))
  CAF_ADD_TYPE_ID(emporium, (emporium::cart_line))
  CAF_ADD_TYPE_ID(emporium, (std::vector<emporium::cart_line>))
  CAF_ADD_TYPE_ID(emporium, (emporium::cart_view))
  CAF_ADD_TYPE_ID(emporium, (emporium::stock_view))
  CAF_ADD_TYPE_ID(emporium, (emporium::reserve_status))
  CAF_ADD_TYPE_ID(emporium, (emporium::reserve_reply))
  CAF_ADD_TYPE_ID(emporium, (emporium::directory_stats))
  CAF_ADD_TYPE_ID(emporium, (emporium::user_record))
  CAF_ADD_TYPE_ID(emporium, (emporium::product_record))
  CAF_ADD_TYPE_ID(emporium, (emporium::payment_reply))
  CAF_ADD_TYPE_ID(emporium, (emporium::order_event))
  CAF_ADD_TYPE_ID(emporium, (std::vector<emporium::order_event>))
  CAF_ADD_TYPE_ID(emporium, (std::vector<std::int64_t>))
  CAF_ADD_TYPE_ID(emporium, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(emporium, (emporium::load_state))
  CAF_ADD_TYPE_ID(emporium, (emporium::was_sold))
  CAF_ADD_TYPE_ID(emporium, (emporium::charge_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::refund_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::create_product))
  CAF_ADD_TYPE_ID(emporium, (emporium::update_product))
  CAF_ADD_TYPE_ID(emporium, (emporium::delete_product))
  CAF_ADD_TYPE_ID(emporium, (emporium::stock_level))
  CAF_ADD_TYPE_ID(emporium, (emporium::apply_remote_change))
  CAF_ADD_TYPE_ID(emporium, (emporium::announce_to))
  CAF_ADD_TYPE_ID(emporium, (emporium::reload_catalog))
  CAF_ADD_TYPE_ID(emporium, (emporium::member_view::state))
  CAF_ADD_TYPE_ID(emporium, (emporium::member_view))
  CAF_ADD_TYPE_ID(emporium, (std::vector<emporium::member_view>))
  CAF_ADD_TYPE_ID(emporium, (emporium::cluster_view))
  CAF_ADD_TYPE_ID(emporium, (std::vector<std::uint32_t>))
  CAF_ADD_TYPE_ID(emporium, (emporium::found_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::place_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::order_history))
  CAF_ADD_TYPE_ID(emporium, (emporium::find_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::events_after))
  CAF_ADD_TYPE_ID(emporium, (emporium::unfinished_orders))
  CAF_ADD_TYPE_ID(emporium, (emporium::order_status))
  CAF_ADD_TYPE_ID(emporium, (emporium::order_state))
  CAF_ADD_TYPE_ID(emporium, (std::vector<emporium::order_state>))
  CAF_ADD_TYPE_ID(emporium, (emporium::add_to_cart))
  CAF_ADD_TYPE_ID(emporium, (emporium::set_cart_line))
  CAF_ADD_TYPE_ID(emporium, (emporium::remove_from_cart))
  CAF_ADD_TYPE_ID(emporium, (emporium::clear_cart))
  CAF_ADD_TYPE_ID(emporium, (emporium::get_cart))
  CAF_ADD_TYPE_ID(emporium, (emporium::reserve_stock))
  CAF_ADD_TYPE_ID(emporium, (emporium::release_stock))
  CAF_ADD_TYPE_ID(emporium, (emporium::commit_stock))
  CAF_ADD_TYPE_ID(emporium, (emporium::set_stock))
  CAF_ADD_TYPE_ID(emporium, (emporium::adjust_stock))
  CAF_ADD_TYPE_ID(emporium, (emporium::get_stock))
  CAF_ADD_TYPE_ID(emporium, (emporium::start_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::get_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::cancel_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::register_account))
  CAF_ADD_TYPE_ID(emporium, (emporium::find_account_by_email))
  CAF_ADD_TYPE_ID(emporium, (emporium::find_account_by_id))
  CAF_ADD_TYPE_ID(emporium, (emporium::promote_account))
  CAF_ADD_TYPE_ID(emporium, (emporium::store_refresh_token))
  CAF_ADD_TYPE_ID(emporium, (emporium::rotate_refresh_token))
  CAF_ADD_TYPE_ID(emporium, (emporium::revoke_refresh_tokens))
  CAF_ADD_TYPE_ID(emporium, (emporium::shard_holding))
  CAF_ADD_TYPE_ID(emporium, (emporium::node_stats))
  CAF_ADD_TYPE_ID(emporium, (std::vector<emporium::node_stats>))
  CAF_ADD_TYPE_ID(emporium, (emporium::event_page))
  CAF_ADD_TYPE_ID(emporium, (emporium::notice_kind))
  CAF_ADD_TYPE_ID(emporium, (emporium::payment_notice))
  CAF_ADD_TYPE_ID(emporium, (emporium::take_for_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::give_back_for_order))
  CAF_ADD_TYPE_ID(emporium, (emporium::login_admission))
  CAF_ADD_TYPE_ID(emporium, (emporium::begin_login))
  CAF_ADD_TYPE_ID(emporium, (emporium::end_login))
  CAF_ADD_TYPE_ID(emporium, (emporium::admit_registration))
  CAF_ADD_TYPE_ID(emporium, (emporium::admit_login_from))
  CAF_ADD_TYPE_ID(emporium, (emporium::end_login_from))
  CAF_ADD_TYPE_ID(emporium, (emporium::check_payment))
  CAF_ADD_TYPE_ID(emporium, (emporium::check_order_payment))
CAF_END_TYPE_ID_BLOCK(emporium)

// A write goes to the store of the entity's own node only: never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(emporium::persistence::entity_write)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(emporium::save_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(emporium::persistence::snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(emporium::sweep_retention)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(emporium::persistence::retention_swept)

namespace emporium::atoms {
using expire = caf::atom_constant<caf::atom("expire")>;
using passivate = caf::atom_constant<caf::atom("passivate")>;
using pin = caf::atom_constant<caf::atom("pin")>;
using restart = caf::atom_constant<caf::atom("restart")>;
using sweep = caf::atom_constant<caf::atom("sweep")>;
using whereis = caf::atom_constant<caf::atom("whereis")>;
using stats = caf::atom_constant<caf::atom("stats")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using fold = caf::atom_constant<caf::atom("fold")>;
using deadline = caf::atom_constant<caf::atom("deadline")>;
using step = caf::atom_constant<caf::atom("step")>;
using result = caf::atom_constant<caf::atom("result")>;
using retry = caf::atom_constant<caf::atom("retry")>;
// cluster
using broadcast = caf::atom_constant<caf::atom("broadcast")>;
using relay = caf::atom_constant<caf::atom("relay")>;
using forward = caf::atom_constant<caf::atom("forward")>;
using shard_call = caf::atom_constant<caf::atom("shardcall")>;
using accounts_call = caf::atom_constant<caf::atom("acctcall")>;
using hello = caf::atom_constant<caf::atom("hello")>;
using welcome = caf::atom_constant<caf::atom("welcome")>;
using leaving = caf::atom_constant<caf::atom("leaving")>;
using tick = caf::atom_constant<caf::atom("tick")>;
using acquire = caf::atom_constant<caf::atom("acquire")>;
using reconnect = caf::atom_constant<caf::atom("reconnect")>;
using status = caf::atom_constant<caf::atom("status")>;
using local_status = caf::atom_constant<caf::atom("localstat")>;
using local_stats = caf::atom_constant<caf::atom("localstats")>;
using sees = caf::atom_constant<caf::atom("sees")>; // (sees, node) -> bool: a live member here?
/// (wanted, shard, node): `node`, the shard's owner by its own view, waits
/// for the lock; a holder whose view agrees lets the shard go.
using wanted = caf::atom_constant<caf::atom("wanted")>;
} // namespace emporium::atoms

namespace emporium {

/// Registers every Emporium message type with a config (call on every node).
void register_message_types(caf::actor_system_config& cfg);

} // namespace emporium
