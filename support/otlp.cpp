// OTLP/HTTP JSON (see otlp.hpp).
#include "support/otlp.hpp"

#include <charconv>

namespace emporium::otlp {

namespace {

/// A JSON string of `text`: quotes, backslashes and control bytes escaped;
/// bytes outside ASCII become '?' (a span name or attribute holding a
/// client's invalid UTF-8 must not make the collector refuse the batch).
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else if (c >= 0x80) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void append_attributes(std::string& out, const attributes& attrs) {
  out += '[';
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    if (i > 0)
      out += ',';
    out += "{\"key\":";
    append_string(out, attrs[i].first);
    out += ",\"value\":{\"stringValue\":";
    append_string(out, attrs[i].second);
    out += "}}";
  }
  out += ']';
}

} // namespace

std::optional<endpoint> parse_endpoint(std::string_view url, std::string& why) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    why = "the OTLP endpoint must be an http:// URL (e.g. http://127.0.0.1:4318)";
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  std::string prefix{slash == std::string_view::npos ? std::string_view{} : rest.substr(slash)};
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  endpoint e;
  auto colon = authority.rfind(':');
  bool bracketed = !authority.empty() && authority.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
    e.host = std::string{authority.substr(0, colon)};
    e.port = std::string{authority.substr(colon + 1)};
  } else {
    e.host = std::string{authority};
    e.port = "4318";
  }
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(e.port.data(), e.port.data() + e.port.size(), port);
  if (e.host.empty() || ec != std::errc{} || end != e.port.data() + e.port.size() || port == 0 ||
      port > 65535) {
    why = "the OTLP endpoint needs a host and a port from 1 to 65535";
    return std::nullopt;
  }
  for (char c : prefix)
    if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#') {
      why = "the OTLP endpoint's path may not hold spaces, a query or a fragment";
      return std::nullopt;
    }
  e.path = prefix + "/v1/traces";
  return e;
}

std::string encode(const std::vector<trace::span>& spans, const attributes& resource) {
  // Written directly, not through a JSON DOM: the exporter encodes every
  // span the node makes (tens of thousands a second under load).
  std::string out;
  out.reserve(256 + spans.size() * 400);
  out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":";
  append_attributes(out, resource);
  out += "},\"scopeSpans\":[{\"scope\":{\"name\":\"emporium\"},\"spans\":[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const auto& s = spans[i];
    if (i > 0)
      out += ',';
    out += "{\"traceId\":\"";
    out += trace::trace_id_hex(s.ctx);
    out += "\",\"spanId\":\"";
    out += trace::span_id_hex(s.ctx.span);
    out += '"';
    if (s.parent != 0) {
      out += ",\"parentSpanId\":\"";
      out += trace::span_id_hex(s.parent);
      out += '"';
    }
    out += ",\"name\":";
    append_string(out, s.name);
    out += ",\"kind\":";
    out += std::to_string(static_cast<int>(s.kind));
    out += ",\"startTimeUnixNano\":\"";
    out += std::to_string(s.start_ns);
    out += "\",\"endTimeUnixNano\":\"";
    out += std::to_string(s.end_ns);
    out += "\",\"attributes\":";
    append_attributes(out, s.attributes);
    if (s.ctx.flags != 0) {
      out += ",\"flags\":";
      out += std::to_string(s.ctx.flags);
    }
    out += ",\"status\":{\"code\":";
    out += s.error ? '2' : '0';
    out += "}}";
  }
  out += "]}]}]}";
  return out;
}

} // namespace emporium::otlp
