// Request decoding (see request_decoder.hpp).
#include "http/request_decoder.hpp"

#include "http/response_helpers.hpp"
#include "http/router.hpp"

namespace emporium::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<std::string> url_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())
        return std::nullopt;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool parse_target(std::string_view target, request& req) {
  auto qpos = target.find('?');
  auto path = url_decode(target.substr(0, qpos), false);
  if (!path || path->empty() || path->front() != '/' ||
      path->find('\0') != std::string::npos)
    return false;
  req.path = std::move(*path);
  if (qpos == std::string_view::npos)
    return true;
  auto query = target.substr(qpos + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>{""}
                                              : url_decode(pair.substr(eq + 1), true);
    if (!key || !value)
      return false;
    if (!key->empty())
      req.query.emplace(to_lower(std::move(*key)), std::move(*value));
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return true;
}

std::variant<request, response> decode_request(
  boost::beast::http::request<boost::beast::http::string_body>& msg, const std::string& peer,
  std::string_view peer_key, const trusted_proxies& proxies) {
  // Only `chunked` is a transfer coding we can frame. Anything else (say
  // `xchunked` beside a Content-Length) would be framed by Content-Length
  // here and perhaps differently by a proxy in front: request smuggling.
  if (auto te = msg.find(boost::beast::http::field::transfer_encoding); te != msg.end()) {
    auto coding = to_lower(std::string{te->value()});
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
      coding.pop_back();
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t'))
      coding.erase(coding.begin());
    if (coding != "chunked")
      return error_response(errc::invalid_argument,
                            "Transfer-Encoding '" + std::string{te->value()} +
                              "' is not supported; only chunked",
                            501);
  }
  request req;
  req.method = std::string{msg.method_string()};
  if (!parse_target(std::string_view{msg.target().data(), msg.target().size()}, req))
    return error_response(errc::invalid_argument, "malformed request target");
  for (const auto& field : msg) {
    auto name = to_lower(std::string{field.name_string()});
    auto [it, fresh] = req.headers.try_emplace(name, std::string{field.value()});
    // A repeated header that decides who the caller is or how the body is
    // framed is ambiguous: refuse instead of picking one.
    if (!fresh && (name == "authorization" || name == "content-length" ||
                   name == "idempotency-key" || name == "host"))
      return error_response(errc::invalid_argument, "repeated header: " + name);
    if (!fresh)
      it->second += ", " + std::string{field.value()};
  }
  req.body = std::move(msg.body());
  req.client = proxies.client_of(peer, peer_key, req.header("x-forwarded-for"));
  req.over_tls = proxies.client_over_tls(peer, req.header("x-forwarded-proto"));
  // A caller's trace is continued; a missing, malformed or repeated
  // traceparent starts a new one (never an error: tracing is advisory).
  if (auto parent = trace::parse_traceparent(req.header("traceparent"))) {
    req.trace = trace::child_of(*parent);
    req.trace_parent = parent->span;
  } else {
    req.trace = trace::start_trace();
  }
  return req;
}

} // namespace emporium::http
