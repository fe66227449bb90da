// Client address resolution (see client_address.hpp).
#include "http/client_address.hpp"

#include <boost/beast/core/string.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace emporium::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2); // [::1] as proxies write IPv6
  if (text.empty() || text.size() > 45)
    return std::nullopt;
  std::string copy{text};
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<cidr> parse_cidr(std::string_view text) {
  text = trim(text);
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip)
    return std::nullopt;
  bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  unsigned max = v4 ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || prefix > max)
      return std::nullopt;
  }
  return cidr{*ip, v4 ? 96 + prefix : prefix};
}

bool contains(const cidr& net, const std::array<std::uint8_t, 16>& address) {
  unsigned bits = net.prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((net.address[i] & mask) != (address[i] & mask))
      return false;
    bits -= take;
  }
  return true;
}

bool trusted_proxies::trusts(std::string_view address) const {
  auto ip = parse_ip(address);
  if (!ip)
    return false;
  for (const auto& net : nets_)
    if (contains(net, *ip))
      return true;
  return false;
}

std::string client_key(std::string_view address, unsigned ipv6_prefix) {
  auto ip = parse_ip(address);
  if (!ip)
    return std::string{address};
  char text[INET6_ADDRSTRLEN] = {};
  static constexpr std::array<std::uint8_t, 12> v4_mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(v4_mapped.begin(), v4_mapped.end(), ip->begin())) {
    inet_ntop(AF_INET, ip->data() + 12, text, sizeof text);
    return text;
  }
  ipv6_prefix = std::min(ipv6_prefix, 128u);
  cidr network{*ip, ipv6_prefix};
  for (std::size_t i = 0; i < 16; ++i) { // clear the host bits
    unsigned kept = ipv6_prefix > i * 8 ? std::min(ipv6_prefix - static_cast<unsigned>(i * 8), 8u) : 0;
    network.address[i] &= static_cast<std::uint8_t>(kept == 0 ? 0 : 0xff << (8 - kept));
  }
  inet_ntop(AF_INET6, network.address.data(), text, sizeof text);
  if (ipv6_prefix == 128)
    return text;
  return std::string{text} + "/" + std::to_string(ipv6_prefix);
}

std::string trusted_proxies::client_of(const std::string& peer, std::string_view peer_key,
                                       std::string_view forwarded_for) const {
  if (nets_.empty() || forwarded_for.empty() || !trusts(peer))
    return std::string{peer_key};
  // Right to left: each hop we trust vouches for the one before it.
  std::string nearest = peer;
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    auto entry = trim(comma == std::string_view::npos ? forwarded_for
                                                       : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{}
                                                    : forwarded_for.substr(0, comma);
    auto ip = parse_ip(entry);
    if (!ip)
      return key_of(nearest); // a trusted hop wrote garbage: the limit falls on that hop
    std::string address{trim(entry)};
    if (!trusts(address))
      return key_of(address);
    nearest = address;
  }
  return key_of(nearest); // every hop trusted: the left-most one
}

bool trusted_proxies::client_over_tls(const std::string& peer,
                                      std::string_view forwarded_proto) const {
  if (nets_.empty() || forwarded_proto.empty() || !trusts(peer))
    return false;
  // The left-most entry is the proxy the client met. A client forging
  // "https" through a proxy that appends only makes its own cookie Secure.
  auto first = trim(forwarded_proto.substr(0, forwarded_proto.find(',')));
  return boost::beast::iequals(boost::beast::string_view{first.data(), first.size()}, "https");
}

} // namespace emporium::http
