// The security headers' wire text, picked per answer (security_headers.hpp).
#include "http/security_headers.hpp"

#include <boost/beast/core/string.hpp>

#include <array>
#include <string>

namespace emporium::http {

namespace {

using boost::beast::iequals;
using beast_view = boost::beast::string_view; // Beast 1.74's is Boost's, not std's

bool is_page(const response& res) {
  constexpr beast_view html = "text/html";
  return res.content_type.size() >= html.size() &&
         iequals(beast_view{res.content_type.data(), html.size()}, html);
}

bool has_header(const response& res, beast_view header) {
  for (const auto& [name, value] : res.headers)
    if (iequals(name, header))
      return true;
  return false;
}

/// `policy` empty: the handler wrote its own.
std::string lines(std::string_view policy, bool no_store) {
  std::string out = "X-Content-Type-Options: nosniff\r\n"
                    "X-Frame-Options: DENY\r\n"
                    "Referrer-Policy: no-referrer\r\n";
  if (!policy.empty()) {
    out += "Content-Security-Policy: ";
    out += policy;
    out += "\r\n";
  }
  if (no_store)
    out += "Cache-Control: no-store\r\n";
  return out;
}

} // namespace

std::string_view security_headers(const response& res) {
  // Built once: an answer appends one of the six, nothing allocated per answer.
  static const std::array<std::string, 6> texts{
    lines(resource_security_policy, false), lines(resource_security_policy, true),
    lines(page_security_policy, false),     lines(page_security_policy, true),
    lines({}, false),                       lines({}, true)};
  std::size_t policy = has_header(res, "Content-Security-Policy") ? 4 : is_page(res) ? 2 : 0;
  return texts[policy + (has_header(res, "Cache-Control") ? 0 : 1)];
}

} // namespace emporium::http
