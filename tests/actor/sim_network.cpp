// See sim_network.hpp.
#include "sim_network.hpp"

#include "actors/protocol.hpp"

namespace emporium::testing {

namespace {

using deliver_atom = caf::atom_constant<caf::atom("simdeliv")>;
using answer_atom = caf::atom_constant<caf::atom("simanswr")>;

struct link_state {
  std::uint64_t next = 0;
  std::map<std::uint64_t, std::pair<caf::message, caf::response_promise>> in_flight;
  std::map<std::uint64_t, std::pair<caf::message, caf::response_promise>> answers; ///< on the way back
  static inline const char* name = "sim_link";
};

void deliver_answer(caf::response_promise& rp, caf::message answer) {
  if (answer.match_elements<caf::error>())
    rp.deliver(answer.get_as<caf::error>(0));
  else
    rp.deliver(std::move(answer));
}

/// Hands `msg` to the far end. A request's answer travels back over the
/// link too, delayed like any message and lost when the far end died or
/// was cut off meanwhile (as with CAF's connection: the caller's router
/// learns of the loss when it declares the node down). CAF 0.17's response
/// handlers match by type: an answer of any type arrives as
/// `sec::unexpected_response` with the answer as its context.
void pass_on(caf::stateful_actor<link_state>* self, sim_network* net, const std::string& from,
             const std::string& to, const caf::actor& target, caf::message msg,
             caf::response_promise rp) {
  if (rp.async()) {
    rp.delegate(target, std::move(msg));
    return;
  }
  self->request(target, caf::infinite, std::move(msg))
    .then([self, net, from, to, rp](caf::error& err) mutable {
      if (!net->reachable(to, from))
        return; // lost with the connection
      auto answer = err == caf::sec::unexpected_response ? std::move(err.context())
                                                         : caf::make_message(std::move(err));
      auto delay = net->next_delay();
      if (delay.count() == 0) {
        deliver_answer(rp, std::move(answer));
        return;
      }
      auto id = self->state.next++;
      self->state.answers.emplace(id, std::make_pair(std::move(answer), std::move(rp)));
      self->delayed_send(self, delay, answer_atom::value, id);
    });
}

/// One direction of the link between two routers. Handles of routers inside
/// a message (a hello names its sender) become links from the receiving
/// node, so the answer path crosses the simulated network as well.
caf::behavior sim_link(caf::stateful_actor<link_state>* self, sim_network* net,
                       std::string from, std::string to, caf::actor target) {
  self->monitor(target);
  self->set_down_handler([self](caf::down_msg& msg) { self->quit(msg.reason); });
  self->set_default_handler(
    [self, net, from, to, target](caf::scheduled_actor*,
                                  caf::message_view& view) -> caf::result<caf::message> {
      auto msg = view.move_content_to_message();
      auto rp = self->make_response_promise();
      if (!net->reachable(from, to) || net->lose_one() || net->lose_hello(msg)) {
        ++net->dropped;
        return caf::message{}; // lost: a request's sender times out
      }
      for (std::size_t i = 0; i < msg.size(); ++i)
        if (msg.match_element<caf::actor>(i)) {
          auto& handle = msg.get_mutable_as<caf::actor>(i);
          handle = net->rewrite(to, handle);
        }
      auto delay = net->next_delay();
      ++net->delivered;
      if (delay.count() == 0) {
        pass_on(self, net, from, to, target, std::move(msg), std::move(rp));
        return caf::message{};
      }
      auto id = self->state.next++;
      self->state.in_flight.emplace(id, std::make_pair(std::move(msg), std::move(rp)));
      self->delayed_send(self, delay, deliver_atom::value, id);
      return caf::message{};
    });
  return {
    [self, net, from, to, target](deliver_atom, std::uint64_t id) {
      auto it = self->state.in_flight.find(id);
      if (it == self->state.in_flight.end())
        return;
      auto [msg, rp] = std::move(it->second);
      self->state.in_flight.erase(it);
      pass_on(self, net, from, to, target, std::move(msg), std::move(rp));
    },
    [self](answer_atom, std::uint64_t id) {
      auto it = self->state.answers.find(id);
      if (it == self->state.answers.end())
        return;
      auto [answer, rp] = std::move(it->second);
      self->state.answers.erase(it);
      deliver_answer(rp, std::move(answer));
    },
  };
}

/// Answers a router's (connect_atom, host, port) like CAF's middleman.
caf::behavior sim_connector(caf::event_based_actor*, sim_network* net, std::string from) {
  return {
    [net, from](caf::connect_atom, const std::string& host,
                std::uint16_t port) -> caf::result<caf::node_id, caf::strong_actor_ptr,
                                                   std::set<std::string>> {
      auto to = net->node_at(host, port);
      if (to.empty() || !net->reachable(from, to))
        return caf::make_error(caf::sec::cannot_connect_to_node);
      auto link = net->link_to(from, to);
      if (!link)
        return caf::make_error(caf::sec::cannot_connect_to_node);
      return caf::result<caf::node_id, caf::strong_actor_ptr, std::set<std::string>>{
        caf::node_id{}, caf::actor_cast<caf::strong_actor_ptr>(link), std::set<std::string>{}};
    },
  };
}

} // namespace

caf::actor sim_network::connector_for(const std::string& name) {
  return sys_.spawn(sim_connector, this, name);
}

void sim_network::add_node(const std::string& name, const std::string& host,
                           std::uint16_t port, const caf::actor& router) {
  nodes_[name] = node{router, true};
  by_address_[host + ":" + std::to_string(port)] = name;
}

std::string sim_network::node_at(const std::string& host, std::uint16_t port) const {
  auto it = by_address_.find(host + ":" + std::to_string(port));
  return it == by_address_.end() ? std::string{} : it->second;
}

bool sim_network::reachable(const std::string& from, const std::string& to) const {
  auto it = nodes_.find(to);
  return it != nodes_.end() && it->second.alive && cuts_.count({from, to}) == 0;
}

bool sim_network::lose_one() {
  return drop_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < drop_rate;
}

bool sim_network::lose_hello(const caf::message& msg) {
  if (lose_hellos == 0 || !msg.match_elements<atoms::hello, std::string, caf::actor, std::string>())
    return false;
  --lose_hellos;
  return true;
}

std::chrono::milliseconds sim_network::next_delay() {
  if (max_delay.count() == 0)
    return max_delay;
  return std::chrono::milliseconds(
    std::uniform_int_distribution<std::int64_t>(0, max_delay.count())(rng_));
}

caf::actor sim_network::link_to(const std::string& from, const std::string& to) {
  if (!reachable(from, to)) {
    // A handle received over a link that is up, naming a node `from`
    // cannot reach: it ends at once, as a connection attempt would fail.
    auto dead = sys_.spawn(sim_link, this, from, to, nodes_.at(to).router);
    caf::anon_send_exit(dead, caf::exit_reason::remote_link_unreachable);
    return dead;
  }
  auto& link = links_[{from, to}];
  if (!link) { // a link ends only with a cut or a kill, which forget it
    auto target = nodes_.at(to).router;
    link = sys_.spawn(sim_link, this, from, to, target);
  }
  return link;
}

caf::actor sim_network::rewrite(const std::string& from, const caf::actor& router) {
  for (const auto& [name, n] : nodes_)
    if (n.router == router)
      return link_to(from, name);
  return router;
}

void sim_network::end_link(const std::string& from, const std::string& to) {
  auto it = links_.find({from, to});
  if (it == links_.end())
    return;
  caf::anon_send_exit(it->second, caf::exit_reason::remote_link_unreachable);
  links_.erase(it);
}

void sim_network::end_links(const std::string& a, const std::string& b) {
  end_link(a, b);
  end_link(b, a);
}

void sim_network::cut(const std::string& a, const std::string& b) {
  cuts_.insert({a, b});
  cuts_.insert({b, a});
  end_links(a, b);
}

void sim_network::cut_one_way(const std::string& from, const std::string& to) {
  cuts_.insert({from, to});
  end_link(from, to);
}

void sim_network::heal(const std::string& a, const std::string& b) {
  cuts_.erase({a, b});
  cuts_.erase({b, a});
}

void sim_network::kill(const std::string& name) {
  auto& n = nodes_.at(name);
  n.alive = false;
  caf::anon_send_exit(n.router, caf::exit_reason::kill);
  for (const auto& [other, _] : nodes_)
    if (other != name)
      end_links(name, other);
}

} // namespace emporium::testing
