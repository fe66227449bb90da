// One upgraded connection (see websocket.hpp for the endpoint it drives).
// Internal to the edge's socket code: the HTTP session hands a connection
// over after an upgrade request its ws_factory accepted.
#pragma once

#include "http/edge_state.hpp"
#include "http/websocket.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

namespace emporium::http {

/// Completes the WebSocket handshake on `socket` and runs the session; it
/// holds `slot` (the connection's place in the counts) until it ends.
/// Every message counts against `client`'s request limit (request_limiter.hpp).
void start_websocket_session(boost::asio::ip::tcp::socket&& socket,
                             std::shared_ptr<shared_state> state,
                             std::shared_ptr<connection_slot> slot,
                             std::shared_ptr<ws_endpoint> endpoint,
                             boost::beast::http::request<boost::beast::http::string_body> upgrade,
                             std::string path, std::string client);

} // namespace emporium::http
