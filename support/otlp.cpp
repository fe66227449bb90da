// OTLP/HTTP JSON (see otlp.hpp).
#include "support/otlp.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace emporium::otlp {

namespace {

nlohmann::json key_values(const attributes& attrs) {
  auto out = nlohmann::json::array();
  for (const auto& [key, value] : attrs)
    out.push_back({{"key", key}, {"value", {{"stringValue", value}}}});
  return out;
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
  auto list = nlohmann::json::array();
  for (const auto& s : spans) {
    nlohmann::json one{{"traceId", trace::trace_id_hex(s.ctx)},
                       {"spanId", trace::span_id_hex(s.ctx.span)},
                       {"name", s.name},
                       {"kind", static_cast<int>(s.kind)},
                       {"startTimeUnixNano", std::to_string(s.start_ns)},
                       {"endTimeUnixNano", std::to_string(s.end_ns)},
                       {"attributes", key_values(s.attributes)},
                       {"status", {{"code", s.error ? 2 : 0}}}};
    if (s.parent != 0)
      one["parentSpanId"] = trace::span_id_hex(s.parent);
    if (s.ctx.flags != 0)
      one["flags"] = s.ctx.flags;
    list.push_back(std::move(one));
  }
  nlohmann::json doc{
    {"resourceSpans",
     {{{"resource", {{"attributes", key_values(resource)}}},
       {"scopeSpans", {{{"scope", {{"name", "emporium"}}}, {"spans", std::move(list)}}}}}}}};
  // replace: a span name or attribute with a client's bytes must not throw.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace emporium::otlp
