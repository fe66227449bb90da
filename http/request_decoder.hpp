// From a request Beast has parsed to the edge's own `request`: the target
// split into a percent-decoded path and query, header names lower-cased.
// Bytes from the network: every malformed piece is a 400, nothing throws.
// Kept apart from the sessions so the fuzzer runs the same code.
#pragma once

#include "http/client_address.hpp"
#include "http/message.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace emporium::http {

/// Percent-decoding; '+' is a space in query strings. nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view in, bool plus_is_space);

/// Fills path and query from the request target; false on a malformed one
/// (bad escape, no leading '/', a NUL byte in the path).
bool parse_target(std::string_view target, request& req);

/// The request, or the answer for a malformed one (400; 501 for a
/// Transfer-Encoding other than chunked). Moves the body out. The server
/// closes the connection after such an answer.
/// `peer` is the socket's address and `peer_key` its client key
/// (proxies.key_of(peer), worked out once per connection); the request's
/// client is the one `proxies` vouch for in X-Forwarded-For, as its key
/// (see client_address.hpp).
std::variant<request, response> decode_request(
  boost::beast::http::request<boost::beast::http::string_body>& msg, const std::string& peer,
  std::string_view peer_key, const trusted_proxies& proxies);

/// The same, the peer's key worked out here.
inline std::variant<request, response> decode_request(
  boost::beast::http::request<boost::beast::http::string_body>& msg, const std::string& peer,
  const trusted_proxies& proxies) {
  return decode_request(msg, peer, proxies.key_of(peer), proxies);
}

} // namespace emporium::http
