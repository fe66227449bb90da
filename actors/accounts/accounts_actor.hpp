// The accounts shard: users (by id and by email) and refresh tokens. One
// actor owns the users table, so "is this email taken?" and "take it" are one
// message. Password hashing never runs here (the edge hashes off-thread).
//
// Protocol (all answers may be an errc error):
//   (register_user, user_record)                  -> user_record | conflict
//   (find_email, email)                           -> user_record | not_found
//   (find_id, id)                                 -> user_record | not_found
//   (refresh_store, token_hash, user_id, exp_ms)  -> unit
//   (refresh_rotate, old_hash, new_hash, exp_ms)  -> user_record | unauthenticated
//   (revoke, user_id)                             -> unit
#pragma once

#include "persistence/database.hpp"

#include <caf/fwd.hpp>
#include <string>

namespace emporium {

caf::actor spawn_accounts(caf::actor_system& sys, const std::string& db_path,
                          persistence::durability level);

} // namespace emporium
