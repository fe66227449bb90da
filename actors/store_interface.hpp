// What the store actor (one per shard file, the file's only writer) accepts:
// each request names its reply, and the handle is a typed_actor, so a
// request the store does not take, or a reply read as the wrong type, does
// not compile. Entities, the order index and tests use it.
#pragma once

#include "persistence/entity_store.hpp"

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace emporium {

/// An entity's snapshot; empty when it has none yet. A save of it still in
/// the batch is committed first.
struct load_state {
  using reply = persistence::snapshot;
  std::uint8_t kind = 0;
  std::string id;
};

/// A snapshot with whatever shares its transaction (outbox events, an
/// order's index row, a stock record's sale). Answered once committed
/// (group commit: saves waiting in the mailbox join the same transaction).
/// Never crosses nodes: each shard's store is local to its owner.
struct save_state {
  using reply = void;
  persistence::entity_write write;
};

/// Is stock record `product`'s sale to `order` on file (made and not given
/// back)? (a repeated commit, or a cancel's release of an old sale)
struct was_sold {
  using reply = bool;
  std::uint8_t kind = 0;
  std::string product;
  std::int64_t order = 0;
};

/// Deletes and forgets what retention says is old, in the writer's own
/// transactions (see persistence/retention.hpp). Local, like save_state.
struct sweep_retention {
  using reply = persistence::retention_swept;
  persistence::retention_cutoffs cutoffs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_state& x) {
  return f(caf::meta::type_name("load_state"), x.kind, x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, was_sold& x) {
  return f(caf::meta::type_name("was_sold"), x.kind, x.product, x.order);
}

using store_actor =
  caf::typed_actor<caf::replies_to<load_state>::with<persistence::snapshot>,
                   caf::replies_to<save_state>::with<void>,
                   caf::replies_to<was_sold>::with<bool>,
                   caf::replies_to<sweep_retention>::with<persistence::retention_swept>>;

} // namespace emporium
