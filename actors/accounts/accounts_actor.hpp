// The accounts shard: users (by id and by email) and refresh tokens. One
// actor owns the users table, so "is this email taken?" and "take it" are one
// message. Password hashing never runs here (the edge hashes off-thread).
// Its requests are in accounts_interface.hpp.
#pragma once

#include "actors/accounts/accounts_interface.hpp"
#include "actors/spawn_mode.hpp"
#include "persistence/fencing.hpp"

#include <caf/fwd.hpp>
#include <string>

namespace emporium {

/// `shards`: how many shards the cluster has (new ids land on their
/// email's shard). `logins_per_address_account`: login attempts a client
/// address may start on one account per minute (begin_login), a success
/// taken back (config: login-failures-per-minute-account).
/// `registrations_per_address`: registrations a client address may start
/// per minute, for the addresses that hash to this shard
/// (admit_registration; config: registrations-per-minute-ip).
accounts_actor spawn_accounts(caf::actor_system& sys, const std::string& db_path,
                              persistence::durability level, std::uint32_t shards,
                              spawn_mode mode, persistence::epoch_fence fence = {},
                              unsigned logins_per_address_account = 5,
                              unsigned registrations_per_address = 10);

/// A new user id: 128 random bits as 32 hex characters (before it is
/// fitted to its email's shard by cluster::user_id_for_email).
std::string random_user_id();

} // namespace emporium
