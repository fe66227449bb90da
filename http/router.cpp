// Route matching (see router.hpp).
#include "http/router.hpp"

#include "http/response_helpers.hpp"

#include <algorithm>

namespace emporium::http {

const std::string& request::header(const std::string& lower_name) const {
  static const std::string none;
  auto it = headers.find(lower_name);
  return it == headers.end() ? none : it->second;
}

std::optional<std::string> request::query_param(const std::string& lower_name) const {
  auto it = query.find(lower_name);
  if (it == query.end())
    return std::nullopt;
  return it->second;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string::npos)
      next = path.size();
    if (next > pos)
      out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

void router::add(std::string method, std::string pattern, handler fn) {
  compiled c;
  for (auto& seg : split_path(pattern))
    c.segments.push_back(seg.front() == '{' ? "{}" : to_lower(seg));
  c.cells = make_route_cells(method, pattern);
  routes_.push_back(route{std::move(method), std::move(pattern), std::move(fn)});
  compiled_.push_back(std::move(c));
}

void router::dispatch(request& req, responder respond) const {
  auto segments = split_path(to_lower(req.path)); // lower once, compare many times
  auto original = split_path(req.path); // parameters keep their case
  std::string allowed;
  // Literal segments beat placeholders: /api/products/categories must not
  // be read as /api/products/{id}. Two passes: exact literals first.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < routes_.size(); ++i) {
      const auto& pattern = compiled_[i].segments;
      if (pattern.size() != segments.size())
        continue;
      bool has_placeholder = false;
      bool match = true;
      std::vector<std::string> params;
      for (std::size_t s = 0; s < pattern.size() && match; ++s) {
        if (pattern[s] == "{}") {
          has_placeholder = true;
          params.push_back(original[s]); // parameters keep their case
        } else if (pattern[s] != segments[s]) {
          match = false;
        }
      }
      if (!match || has_placeholder != (pass == 1))
        continue;
      if (routes_[i].method != req.method &&
          !(req.method == "HEAD" && routes_[i].method == "GET")) {
        if (allowed.find(routes_[i].method) == std::string::npos)
          allowed += (allowed.empty() ? "" : ", ") + routes_[i].method;
        continue;
      }
      req.params = std::move(params);
      respond = counted(compiled_[i].cells, req, std::move(respond));
      // Backend calls the handler makes join the request's trace.
      trace::scope in_request{req.trace};
      if (guard_ && guard_(req, respond))
        return;
      routes_[i].fn(req, std::move(respond));
      return;
    }
    if (!allowed.empty())
      break; // the literal route exists with other methods: do not try placeholders
  }
  // An API path is one whose first segment is `api`, read as the routes
  // are (any case, empty segments skipped): `//api/x` gets the JSON 404 of
  // `/api/x`, not the storefront's page.
  bool api_path = !segments.empty() && segments.front() == "api";
  if (fallback_ && allowed.empty() && (req.method == "GET" || req.method == "HEAD") &&
      !api_path) {
    fallback_(req, counted(static_, req, std::move(respond)));
    return;
  }
  respond = counted(unmatched_, req, std::move(respond));
  if (!allowed.empty()) {
    auto res = error_response(errc::invalid_argument, "method not allowed", 405);
    res.headers.emplace_back("Allow", allowed);
    respond(std::move(res));
    return;
  }
  respond(error_response(errc::not_found, "no such route: " + req.method + " " + req.path));
}

} // namespace emporium::http
