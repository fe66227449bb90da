// The order index: allocates order ids, makes placement idempotent (the
// original answer is stored and replayed for a retried Idempotency-Key, also
// after a restart), and serves order reads (history, one order, missed
// events). Placement hands the index row, the Submitted snapshot and its
// event to the shard's store actor, which writes them in one transaction
// (the file's only writer), then starts the saga through the directory.
//
// Protocol:
//   (place, user, key ("" = none), request_hash, order_state json, answer json)
//        -> answer json (with orderId) | conflict (same key, other request)
//      with an empty order json it only looks the key up (not_found if new)
//   (history, user)        -> std::vector<std::string> snapshots, newest first
//   (find, order_id)       -> std::vector<std::string>{user, snapshot} | not_found
//   (events, user, seq)    -> std::vector<outbox_row> after seq, oldest first
//   (unfinished)           -> std::vector<order_id> (resumed at start-up)
#pragma once

#include "actors/entity_services.hpp"
#include "persistence/order_store.hpp"

namespace emporium {

/// `detached` gives it a thread of its own; the router runs it on CAF's
/// workers (see router.cpp), deterministic tests on the test scheduler.
caf::actor spawn_order_index(caf::actor_system& sys, const std::string& db_path,
                             persistence::durability level, store_actor store,
                             caf::actor directory, persistence::order_id_space ids,
                             bool detached);

} // namespace emporium
