// Content security policy violation reports (see csp_report.hpp).
#include "http/csp_report.hpp"

#include "support/json_field.hpp"

#include <algorithm>
#include <array>

namespace emporium::http {

namespace {

/// The directives a browser can name as the one that refused (CSP 3 and
/// the level-2 ones browsers still send). Anything else is "other".
constexpr std::array<std::string_view, 24> known_directives{
  "base-uri",        "child-src",      "connect-src",     "default-src",
  "font-src",        "form-action",    "frame-ancestors", "frame-src",
  "img-src",         "manifest-src",   "media-src",       "navigate-to",
  "object-src",      "prefetch-src",   "require-trusted-types-for",
  "sandbox",         "script-src",     "script-src-attr", "script-src-elem",
  "style-src",       "style-src-attr", "style-src-elem",  "trusted-types",
  "worker-src",
};

std::string lower_ascii(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  });
  return out;
}

/// A directive as a metric label: its name (a level-2 `violated-directive`
/// holds the whole directive, "script-src 'self'"), lower case, known or
/// "other".
std::string directive_label(std::string_view text) {
  auto name = text.substr(0, text.find(' '));
  auto lower = lower_ascii(name);
  for (auto known : known_directives)
    if (lower == known)
      return lower;
  return "other";
}

std::string text_of(const nlohmann::json& obj, std::string_view key) {
  auto value = json_read::field<std::string>(obj, key);
  return value ? *value : std::string{};
}

/// One refusal from its fields, whichever names the report shape uses;
/// nullopt without a directive (not a violation anyone can act on).
struct field_names {
  std::string_view directive, fallback_directive, blocked, document, source, line;
};

constexpr field_names level2_names{"effective-directive", "violated-directive", "blocked-uri",
                                   "document-uri",        "source-file",        "line-number"};
constexpr field_names reporting_api_names{"effectiveDirective", "violatedDirective", "blockedURL",
                                          "documentURL",        "sourceFile",        "lineNumber"};

std::optional<csp_violation> violation_of(const nlohmann::json& fields, const field_names& names) {
  auto directive = text_of(fields, names.directive);
  if (directive.empty())
    directive = text_of(fields, names.fallback_directive);
  if (directive.empty())
    return std::nullopt;
  csp_violation v;
  v.directive = directive_label(directive);
  v.blocked = csp_report_text(text_of(fields, names.blocked));
  v.document = csp_report_path(text_of(fields, names.document));
  v.source = csp_report_text(text_of(fields, names.source));
  v.line = json_read::field<std::uint32_t>(fields, names.line).value_or(0);
  v.enforced = text_of(fields, "disposition") != "report";
  return v;
}

} // namespace

std::string csp_report_text(std::string_view text) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  text = text.substr(0, text.find_first_of("?#"));
  std::string out;
  for (char c : text.substr(0, max_csp_field_bytes)) {
    auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f) {
      out.push_back(c);
    } else { // as a URL writes it: a log line stays one line of ASCII
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xf]);
    }
  }
  out.resize(std::min(out.size(), max_csp_field_bytes));
  return out;
}

std::string csp_report_path(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    auto path = url.find('/', scheme_end + 3);
    url = path == std::string_view::npos ? std::string_view{"/"} : url.substr(path);
  }
  return csp_report_text(url);
}

std::variant<csp_reports, std::string> parse_csp_reports(std::string_view body) {
  constexpr std::string_view shapes =
    "expected a CSP report ({\"csp-report\": {...}}) or a Reporting API array";
  auto doc = json_read::parse(body, 16);
  if (!doc)
    return std::string{"malformed JSON body: "} + std::string{shapes};
  csp_reports out;
  if (doc->is_object()) {
    auto report = json_read::member(*doc, "csp-report");
    if (report == nullptr || !report->is_object())
      return std::string{shapes};
    if (auto v = violation_of(*report, level2_names))
      out.violations.push_back(std::move(*v));
    else
      ++out.ignored;
    return out;
  }
  if (!doc->is_array())
    return std::string{shapes};
  for (const auto& entry : *doc) {
    auto body_fields = json_read::member(entry, "body");
    bool is_violation = json_read::field<std::string>(entry, "type") == "csp-violation" &&
                        body_fields != nullptr && body_fields->is_object();
    if (!is_violation || out.violations.size() == max_csp_reports_per_body) {
      ++out.ignored;
      continue;
    }
    if (auto v = violation_of(*body_fields, reporting_api_names))
      out.violations.push_back(std::move(*v));
    else
      ++out.ignored;
  }
  return out;
}

} // namespace emporium::http
