// A name lookup's addresses as asio endpoints, for the clients that connect
// through asio after a bounded lookup (name_lookup.hpp): the payment API's
// HTTPS client, the OTLP exporter and the health probe. A header of its own
// so that name_lookup.hpp stays free of asio.
#pragma once

#include "support/name_lookup.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <netdb.h>

#include <cstring>
#include <vector>

namespace emporium {

/// Every IPv4 and IPv6 address of `found`, in its order; none when the
/// lookup failed.
inline std::vector<boost::asio::ip::tcp::endpoint> tcp_endpoints(const lookup_result& found) {
  std::vector<boost::asio::ip::tcp::endpoint> out;
  for (auto* a = found.addresses.get(); a != nullptr; a = a->ai_next) {
    boost::asio::ip::tcp::endpoint e;
    if (a->ai_addrlen > e.capacity())
      continue; // not an IPv4 or IPv6 address
    std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
    e.resize(a->ai_addrlen);
    out.push_back(e);
  }
  return out;
}

} // namespace emporium
