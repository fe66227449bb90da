// Where things live in a cluster: plain functions, the same on every node.
//
// Every entity hashes into one of a fixed number of shards. A user's cart,
// orders, order index and outbox share the user's shard (order ids are
// allocated in the shard's residue class, so an order's shard follows from
// its id alone). The owners of the shards follow from the live members
// alone (assign_owners), so every node with the same view computes the
// same owners without asking anyone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::cluster {

/// FNV-1a, 64 bit: stable across builds and machines (std::hash is not).
std::uint64_t stable_hash(std::string_view text);

std::uint32_t shard_of_user(std::string_view user_id, std::uint32_t shards);
/// Where an account is found by email (case-insensitive). User ids are drawn
/// so that shard_of_user(id) == shard_of_email(email): login by email and
/// every later lookup by id land on the same shard, with the user's cart,
/// orders and outbox.
std::uint32_t shard_of_email(std::string_view email, std::uint32_t shards);
/// A new user id that lands on `email`'s shard: ids from `draw` (random)
/// until one does (about `shards` draws on average).
std::string user_id_for_email(std::string_view email, std::uint32_t shards,
                              const std::function<std::string()>& draw);
std::uint32_t shard_of_product(std::string_view product_id, std::uint32_t shards);
/// Where a client address's registrations are counted (one shard for the
/// whole cluster, so that every node counts the same ones).
std::uint32_t shard_of_address(std::string_view address, std::uint32_t shards);
/// Orders are numbered shard + 1, shard + 1 + shards, ... (see order_id_space).
std::uint32_t shard_of_order(std::int64_t order_id, std::uint32_t shards);
/// For an order id given as text; a non-number hashes like a user id.
std::uint32_t shard_of_order(std::string_view order_id, std::uint32_t shards);

/// The owner of each of `shards` shards (index = shard; "" if no members).
/// Balanced: every member owns shards / members or one more. Stable: every
/// (member, shard) pair has a hash score and pairs are taken highest first
/// while the member has room, so a member joining or leaving moves the
/// shards it wins or held and, on average, fewer than one more. (Plain
/// rendezvous hashing moves none more, but left one of three members with
/// no shard in 2% of clusters and gave another up to 10 of 12.)
std::vector<std::string> assign_owners(std::uint32_t shards, std::vector<std::string> members);

/// Strictly more than half of the configured members.
bool has_quorum(std::size_t live, std::size_t configured);

struct seed_address {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const seed_address&, const seed_address&) = default;
};

/// "host:port", as the seed was configured (and as peers are named in logs).
std::string to_string(const seed_address& seed);

/// The members other than this node, from "host:port" entries (already
/// validated by the config): the node's own address and repeats dropped.
/// A seed whose host is the node's name, or starts with "<name>." (a
/// StatefulSet's `emporium-0.emporium-nodes`), is the node itself; when no
/// seed names the node, its own address is recognised by host and port
/// (with a wildcard bind, by port alone: nodes of one host differ by port).
std::vector<seed_address> parse_seeds(const std::vector<std::string>& seeds,
                                      const std::string& own_host, std::uint16_t own_port,
                                      const std::string& node_name = {});

} // namespace emporium::cluster
