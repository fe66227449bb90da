// One HTTP/1.1 connection of the edge: reads requests within the limits and
// timeouts of server_options, hands each to the router, and writes the
// answers in request order (bounded pipelining); hands the connection to a
// WebSocket session after an accepted upgrade. Internal to the edge's
// socket code.
#pragma once

#include "http/edge_state.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

namespace emporium::http {

/// Runs a session on `socket` from `peer` (its address); it holds `slot`.
void start_http_session(boost::asio::ip::tcp::socket&& socket,
                        std::shared_ptr<shared_state> state,
                        std::shared_ptr<connection_slot> slot, std::string peer);

} // namespace emporium::http
