// The order index: allocates order ids, makes placement idempotent (the
// original answer is stored and replayed for a retried Idempotency-Key, also
// after a restart), and serves order reads (history, one order, missed
// events). Placement hands the index row, the Submitted snapshot and its
// event to the shard's store actor, which writes them in one transaction
// (the file's only writer), then starts the saga through the directory.
// Its interface: actors/order/order_index_interface.hpp.
#pragma once

#include "actors/order/order_index_interface.hpp"

#include "actors/entity_services.hpp"
#include "persistence/order_store.hpp"

namespace emporium {

/// The router runs it on CAF's
/// workers (see router.cpp), deterministic tests on the test scheduler.
/// Every `retention.interval_ms` it has the store sweep what `retention`
/// says is old (see persistence/retention.hpp). A new placement is refused
/// (errc::overloaded) while `load` (the node's, shared with its sagas) does
/// not admit one; null = never refused.
order_index_actor spawn_order_index(caf::actor_system& sys, const std::string& db_path,
                                    persistence::durability level, store_actor store,
                                    caf::actor directory, persistence::order_id_space ids,
                                    spawn_mode mode, persistence::retention_policy retention = {},
                                    std::shared_ptr<saga_load> load = nullptr);

} // namespace emporium
