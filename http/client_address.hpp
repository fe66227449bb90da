// Who the client is when the node sits behind proxies. A proxy appends the
// address it received a connection from to X-Forwarded-For; anything to the
// left of what a trusted proxy appended was written by the client and can be
// forged. So the client is the right-most X-Forwarded-For entry that is not
// itself a trusted proxy, and X-Forwarded-For is read at all only when the
// socket's peer is trusted (--trusted-proxies, CIDRs). Every per-client
// limit keys on this address.
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

class trusted_proxies {
public:
  trusted_proxies() = default;
  explicit trusted_proxies(std::vector<cidr> nets) : nets_(std::move(nets)) {}

  bool empty() const { return nets_.empty(); }
  bool trusts(std::string_view address) const;

  /// The client behind `peer` (the socket's address) given the request's
  /// X-Forwarded-For header (empty when absent).
  std::string client_of(const std::string& peer, std::string_view forwarded_for) const;

private:
  std::vector<cidr> nets_;
};

} // namespace emporium::http
