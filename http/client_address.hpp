// Who the client is when the node sits behind proxies. A proxy appends the
// address it received a connection from to X-Forwarded-For; anything to the
// left of what a trusted proxy appended was written by the client and can be
// forged. So the client is the right-most X-Forwarded-For entry that is not
// itself a trusted proxy, and X-Forwarded-For is read at all only when the
// socket's peer is trusted (--trusted-proxies, CIDRs). Every per-client
// limit keys on the client's key (client_key): its IPv4 address, or its
// IPv6 address's network (/64 by default), since one IPv6 subscriber holds
// a whole /64 (often a /56 or /48) and could give each request a new
// address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::http {

/// An IPv4 or IPv6 network; IPv4 is held as IPv4-mapped IPv6.
struct cidr {
  std::array<std::uint8_t, 16> address{};
  unsigned prefix = 128; ///< in IPv6 bits (an IPv4 /24 is 96 + 24)
};

/// "10.0.0.0/8", "::1", "fd00::/8", "127.0.0.1" (a host); nullopt if malformed.
std::optional<cidr> parse_cidr(std::string_view text);

/// The 16-byte form of an IPv4 or IPv6 address; nullopt if malformed.
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text);

bool contains(const cidr& net, const std::array<std::uint8_t, 16>& address);

/// What per-client limits count an address as: an IPv4 address (also in
/// its IPv4-mapped IPv6 form) as itself, "203.0.113.7"; an IPv6 address as
/// its network of `ipv6_prefix` bits, "2001:db8:1:2::/64" (the address
/// itself, without a suffix, at 128). Text that is not an address (an
/// unknown peer) is kept as it is.
std::string client_key(std::string_view address, unsigned ipv6_prefix);

/// Who a request's client is: the proxies whose X-Forwarded-For is
/// believed, and how much of an IPv6 address names one client.
class trusted_proxies {
public:
  static constexpr unsigned default_ipv6_prefix = 64;

  trusted_proxies() = default;
  explicit trusted_proxies(std::vector<cidr> nets, unsigned ipv6_prefix = default_ipv6_prefix)
    : nets_(std::move(nets)), ipv6_prefix_(ipv6_prefix) {}

  bool empty() const { return nets_.empty(); }
  bool trusts(std::string_view address) const;

  /// The key (client_key) of the client behind `peer` (the socket's
  /// address) given the request's X-Forwarded-For header (empty when
  /// absent).
  std::string client_of(const std::string& peer, std::string_view forwarded_for) const {
    return client_of(peer, key_of(peer), forwarded_for);
  }

  /// The same with the peer's own key already known (a connection works it
  /// out once, not per request): a request without a believed
  /// X-Forwarded-For costs a copy.
  std::string client_of(const std::string& peer, std::string_view peer_key,
                        std::string_view forwarded_for) const;

  /// Whether the client reached the proxy in front over TLS: the request's
  /// X-Forwarded-Proto says https, and `peer` is trusted to say so.
  bool client_over_tls(const std::string& peer, std::string_view forwarded_proto) const;

  /// The key of a client that connects directly (a socket's peer).
  std::string key_of(std::string_view address) const { return client_key(address, ipv6_prefix_); }

private:
  std::vector<cidr> nets_;
  unsigned ipv6_prefix_ = default_ipv6_prefix;
};

} // namespace emporium::http
