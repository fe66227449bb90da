// A simulated network for routers inside one deterministic actor system:
// it stands behind the router's network seam (router_options::connector)
// the way CAF's middleman does in a node. Router-to-router messages travel
// over link actors that delay, reorder and drop them by a seeded random
// generator; a request's answer comes back over the link, delayed too, and
// is lost when its node dies or is cut off before it arrives (so a request
// can be carried out and its answer never come). Links can be cut
// (partitions) and nodes killed, and a link
// ends (its holder's monitor fires) when its far end dies or is cut off,
// as a remote proxy does when CAF's connection times out.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>

namespace emporium::testing {

class sim_network {
public:
  sim_network(caf::actor_system& sys, std::uint32_t seed) : sys_(sys), rng_(seed) {}

  /// Up to this long per router-to-router message (and per answer on its
  /// way back); random delays reorder.
  std::chrono::milliseconds max_delay{0};
  /// The chance that a router-to-router message is lost.
  double drop_rate = 0.0;
  /// This many hellos (a router introducing itself) are lost next, as
  /// when CAF closes one of two crossing connections with a hello in it.
  std::size_t lose_hellos = 0;

  /// The connector to give the router of node `name`.
  caf::actor connector_for(const std::string& name);

  /// Makes `router` reachable at "host:port" as node `name`.
  void add_node(const std::string& name, const std::string& host, std::uint16_t port,
                const caf::actor& router);

  /// Cuts (or restores) every link between `a` and `b`, both ways.
  void cut(const std::string& a, const std::string& b);
  void heal(const std::string& a, const std::string& b);
  /// `from` loses `to` (its link ends and it cannot connect again) while
  /// `to` still reaches `from`: a peer that some declare down before it
  /// notices anything, as when a link flaps. heal() restores it.
  void cut_one_way(const std::string& from, const std::string& to);

  /// The node's router dies abruptly (its shards' actors with it).
  void kill(const std::string& name);

  std::size_t delivered = 0, dropped = 0;

  // Used by the simulation's actors.
  bool reachable(const std::string& from, const std::string& to) const;
  bool lose_one();
  bool lose_hello(const caf::message& msg);
  std::chrono::milliseconds next_delay();
  /// The link from `from` to the node whose router is `router`, or `router`
  /// itself when it is no node's router.
  caf::actor rewrite(const std::string& from, const caf::actor& router);
  caf::actor link_to(const std::string& from, const std::string& to);
  std::string node_at(const std::string& host, std::uint16_t port) const;

private:
  void end_link(const std::string& from, const std::string& to);
  void end_links(const std::string& a, const std::string& b); ///< both ways

  struct node {
    caf::actor router;
    bool alive = true;
  };
  caf::actor_system& sys_;
  std::mt19937 rng_;
  std::map<std::string, node> nodes_;
  std::map<std::string, std::string> by_address_; // "host:port" -> name
  std::set<std::pair<std::string, std::string>> cuts_;
  std::map<std::pair<std::string, std::string>, caf::actor> links_; // (from, to)
};

} // namespace emporium::testing
