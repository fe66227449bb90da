// The accounts shard: users (by id and by email) and refresh tokens. One
// actor owns the users table, so "is this email taken?" and "take it" are one
// message. Password hashing never runs here (the edge hashes off-thread).
// Its requests are in accounts_interface.hpp.
#pragma once

#include "actors/accounts/account_limits.hpp"
#include "actors/accounts/accounts_interface.hpp"
#include "actors/spawn_mode.hpp"
#include "persistence/fencing.hpp"

#include <caf/fwd.hpp>
#include <string>

namespace emporium {

/// `shards`: how many shards the cluster has (new ids land on their
/// email's shard). `limits`: the allowances counted here, for the accounts
/// of this shard and for the client addresses that hash to it
/// (shard_of_address).
accounts_actor spawn_accounts(caf::actor_system& sys, const std::string& db_path,
                              persistence::durability level, std::uint32_t shards,
                              spawn_mode mode, persistence::epoch_fence fence = {},
                              account_limits limits = {});

/// A new user id: 128 random bits as 32 hex characters (before it is
/// fitted to its email's shard by cluster::user_id_for_email).
std::string random_user_id();

} // namespace emporium
