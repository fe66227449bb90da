// What the catalog's write side accepts; each request names its reply, and
// the handle is a typed_actor, so a mismatch does not compile. The product
// and stock changes it makes travel to the other nodes' catalogs as these
// same structs (wrapped in the router's broadcast).
#pragma once

#include "domain/records.hpp"

#include <caf/actor.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>

namespace emporium {

/// A new product; answered with its id. Also what other nodes are told.
struct create_product {
  using reply = product_record;
  product_record product;
};

/// A changed product; not_found if there is none with its id.
struct update_product {
  using reply = product_record;
  product_record product;
};

/// true when deleted now, false when there was none.
struct delete_product {
  using reply = bool;
  std::int64_t id = 0;
};

/// A stock record's available units changed (from stock actors, and from
/// other nodes' catalogs). No answer.
struct stock_level {
  using reply = void;
  std::int64_t product = 0;
  std::int64_t available = 0;
};

/// A change another node made (one of update_product, delete_product,
/// stock_level): the read model follows, the database was written there.
struct apply_remote_change {
  using reply = void;
  caf::message change;
};

/// Where to announce this node's changes (the cluster router).
struct announce_to {
  using reply = void;
  caf::actor router;
};

/// Re-read every product and stock level (a node that rejoins may have
/// missed announcements).
struct reload_catalog {
  using reply = void;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_product& x) {
  return f(caf::meta::type_name("create_product"), x.product);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_product& x) {
  return f(caf::meta::type_name("update_product"), x.product);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_product& x) {
  return f(caf::meta::type_name("delete_product"), x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_level& x) {
  return f(caf::meta::type_name("stock_level"), x.product, x.available);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_remote_change& x) {
  return f(caf::meta::type_name("apply_remote_change"), x.change);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, announce_to& x) {
  return f(caf::meta::type_name("announce_to"), x.router);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reload_catalog&) {
  return f(caf::meta::type_name("reload_catalog"));
}

using catalog_actor = caf::typed_actor<caf::replies_to<create_product>::with<product_record>,
                                       caf::replies_to<update_product>::with<product_record>,
                                       caf::replies_to<delete_product>::with<bool>,
                                       caf::reacts_to<stock_level>,
                                       caf::reacts_to<apply_remote_change>,
                                       caf::reacts_to<announce_to>,
                                       caf::reacts_to<reload_catalog>>;

} // namespace emporium
