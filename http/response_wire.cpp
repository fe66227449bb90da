// A response as its bytes (see response_wire.hpp).
#include "http/response_wire.hpp"

#include "http/security_headers.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <string_view>

namespace emporium::http {

namespace {

/// RFC 9110's token characters.
bool is_token(std::string_view s) {
  if (s.empty())
    return false;
  for (unsigned char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              std::string_view{"!#$%&'*+-.^_`|~"}.find(static_cast<char>(c)) !=
                std::string_view::npos;
    if (!ok)
      return false;
  }
  return true;
}

bool is_field_value(std::string_view s) {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  if (!is_token(name) || !is_field_value(value))
    return;
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

/// 1xx, 204 and 304 answers have no body and no Content-Length (RFC 9110).
bool has_no_body(unsigned status) {
  return status < 200 || status == 204 || status == 304;
}

} // namespace

std::string wire_response(const response& res, const wire_options& how,
                          const std::vector<std::pair<std::string, std::string>>& extra) {
  std::size_t headers_size = 0;
  for (const auto& [name, value] : res.headers)
    headers_size += name.size() + value.size() + 4;
  for (const auto& [name, value] : extra)
    headers_size += name.size() + value.size() + 4;
  auto security = security_headers(res);
  std::string out;
  out.reserve(128 + res.content_type.size() + headers_size + security.size() + res.body.size());
  out += how.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, res.status);
  out += ' ';
  auto reason =
    boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(res.status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: emporium\r\n";
  if (!res.content_type.empty())
    append_header(out, "Content-Type", res.content_type);
  for (const auto& [name, value] : res.headers)
    append_header(out, name, value);
  out += security;
  for (const auto& [name, value] : extra)
    append_header(out, name, value);
  if (how.version == 10 && how.keep_alive)
    out += "Connection: keep-alive\r\n";
  else if (how.version != 10 && !how.keep_alive)
    out += "Connection: close\r\n";
  bool bodiless = has_no_body(res.status);
  if (!bodiless) {
    out += "Content-Length: ";
    append_number(out, res.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (!bodiless && !how.head)
    out += res.body;
  return out;
}

} // namespace emporium::http
