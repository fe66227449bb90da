// Connection counts of the HTTP edge (see edge_state.hpp).
#include "http/edge_state.hpp"

#include "support/metrics.hpp"

namespace emporium::http {

namespace {

metrics::gauge& open_connections() {
  static auto& cell =
    metrics::default_registry().gauge_of("emporium_http_open_connections", "Open HTTP connections");
  return cell;
}

} // namespace

metrics::gauge& live_sockets_gauge() {
  static auto& cell = metrics::default_registry().gauge_of(
    "emporium_http_live_sockets", "Open WebSocket connections (live order updates)");
  return cell;
}

std::shared_ptr<connection_slot> connection_slot::take(const std::shared_ptr<shared_state>& state,
                                                       const std::string& peer,
                                                       std::string client,
                                                       bool& per_client_full) {
  per_client_full = false;
  if (++state->connections > state->opts.max_connections) {
    --state->connections;
    return nullptr;
  }
  bool per_client = !state->opts.proxies.trusts(peer);
  if (per_client) {
    std::lock_guard guard{state->per_client_mutex};
    auto& n = state->per_client[client];
    if (n >= state->opts.max_connections_per_client) {
      per_client_full = true;
      if (n == 0)
        state->per_client.erase(client);
      --state->connections;
      return nullptr;
    }
    ++n;
  }
  open_connections().add(1);
  return std::shared_ptr<connection_slot>(new connection_slot(state, std::move(client), per_client));
}

connection_slot::~connection_slot() {
  --state_->connections;
  open_connections().add(-1);
  if (!per_client_)
    return;
  std::lock_guard guard{state_->per_client_mutex};
  auto it = state_->per_client.find(client_);
  if (it != state_->per_client.end() && --it->second == 0)
    state_->per_client.erase(it);
}

} // namespace emporium::http
