// Shard and owner functions (see shard_map.hpp).
#include "domain/shard_map.hpp"
#include "domain/ascii_case.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace emporium::cluster {

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // FNV's low bits mix poorly for short keys; finish with a 64-bit mixer.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

std::uint32_t shard_of_user(std::string_view user_id, std::uint32_t shards) {
  return static_cast<std::uint32_t>(stable_hash(user_id) % shards);
}

std::uint32_t shard_of_email(std::string_view email, std::uint32_t shards) {
  return static_cast<std::uint32_t>(stable_hash("email:" + to_lower(std::string{email})) % shards);
}

std::uint32_t shard_of_address(std::string_view address, std::uint32_t shards) {
  return static_cast<std::uint32_t>(stable_hash(std::string{"address:"} + std::string{address}) %
                                    shards);
}

std::uint32_t shard_of_product(std::string_view product_id, std::uint32_t shards) {
  return static_cast<std::uint32_t>(stable_hash(std::string{"product:"} + std::string{product_id}) %
                                    shards);
}

std::uint32_t shard_of_order(std::int64_t order_id, std::uint32_t shards) {
  if (order_id < 1)
    return 0;
  return static_cast<std::uint32_t>((order_id - 1) % shards);
}

std::uint32_t shard_of_order(std::string_view order_id, std::uint32_t shards) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(order_id.data(), order_id.data() + order_id.size(), id);
  if (ec != std::errc{} || end != order_id.data() + order_id.size())
    return shard_of_user(order_id, shards);
  return shard_of_order(id, shards);
}

std::vector<std::string> assign_owners(std::uint32_t shards, std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<std::string> owners(shards);
  if (members.empty())
    return owners;
  struct pair_score {
    std::uint64_t score;
    std::uint32_t member;
    std::uint32_t shard;
  };
  std::vector<pair_score> pairs;
  pairs.reserve(members.size() * shards);
  for (std::uint32_t m = 0; m < members.size(); ++m)
    for (std::uint32_t s = 0; s < shards; ++s)
      pairs.push_back({stable_hash(members[m] + "#" + std::to_string(s)), m, s});
  // Members are sorted, so ties break the same way on every node.
  std::sort(pairs.begin(), pairs.end(), [](const pair_score& a, const pair_score& b) {
    return a.score != b.score ? a.score > b.score
                              : std::tie(a.member, a.shard) < std::tie(b.member, b.shard);
  });
  const auto share = shards / members.size();
  auto larger_shares = shards % members.size(); // members that may own share + 1
  std::vector<std::size_t> owned(members.size(), 0);
  for (const auto& p : pairs) {
    if (!owners[p.shard].empty())
      continue;
    auto& count = owned[p.member];
    if (count == share) {
      if (larger_shares == 0)
        continue;
      --larger_shares;
    } else if (count > share) {
      continue;
    }
    ++count;
    owners[p.shard] = members[p.member];
  }
  return owners;
}

bool has_quorum(std::size_t live, std::size_t configured) {
  return live * 2 > configured;
}

std::vector<seed_address> parse_seeds(const std::vector<std::string>& seeds,
                                      const std::string& own_host, std::uint16_t own_port,
                                      const std::string& node_name) {
  auto is_loopback = [](const std::string& h) {
    return h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "[::1]";
  };
  // "[fd00::1]" in a seed list names the address "fd00::1" (--bind's form).
  auto same_host = [](const std::string& seed_host, const std::string& host) {
    return seed_host == host || seed_host == '[' + host + ']';
  };
  auto names_node = [&](const seed_address& a) {
    return !node_name.empty() && a.port == own_port &&
           (a.host == node_name || a.host.rfind(node_name + ".", 0) == 0);
  };
  std::vector<seed_address> all;
  for (const auto& s : seeds) {
    auto colon = s.rfind(':');
    all.push_back({s.substr(0, colon),
                   static_cast<std::uint16_t>(std::stoul(s.substr(colon + 1)))});
  }
  bool by_name = std::any_of(all.begin(), all.end(), names_node);
  std::vector<seed_address> out;
  for (const auto& a : all) {
    bool self_address =
      by_name ? names_node(a)
              : a.port == own_port &&
                  (same_host(a.host, own_host) || (is_loopback(a.host) && is_loopback(own_host)) ||
                   own_host == "0.0.0.0");
    bool duplicate = std::any_of(out.begin(), out.end(), [&](const seed_address& b) {
      return b.host == a.host && b.port == a.port;
    });
    if (!self_address && !duplicate)
      out.push_back(a);
  }
  return out;
}

std::string user_id_for_email(std::string_view email, std::uint32_t shards,
                              const std::function<std::string()>& draw) {
  auto want = shard_of_email(email, shards);
  for (;;) {
    auto id = draw();
    if (shard_of_user(id, shards) == want)
      return id;
  }
}

std::string to_string(const seed_address& seed) {
  return seed.host + ':' + std::to_string(seed.port);
}

} // namespace emporium::cluster
