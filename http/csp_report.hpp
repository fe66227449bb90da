// Reading the reports a browser sends when the page's content security policy
// refuses something (POST /api/csp-reports, the policy's `report-uri`): an
// injected script, a skimmer's call to its own server, or the storefront
// itself needing an origin the policy does not name. Two shapes exist:
// `application/csp-report`, one `{"csp-report": {...}}` per refusal (CSP
// level 2, what `report-uri` makes browsers send), and the Reporting API's
// `application/reports+json`, an array of `{"type": "csp-violation",
// "body": {...}}` (CSP level 3). Both are read by shape, whatever the
// Content-Type says.
//
// Anyone can send one, so nothing in a report is trusted: what is kept is
// bounded, printable ASCII, and drops what may carry personal data (a URL's
// query and fragment, the script sample). A report is a hint for the
// operator, never an input that changes anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace emporium::http {

/// A body larger than this is refused (413): a browser's report is ~1 KB.
inline constexpr std::size_t max_csp_report_bytes = 16 * 1024;
/// Reports read from one Reporting API batch; the rest are ignored.
inline constexpr std::size_t max_csp_reports_per_body = 32;
/// Every kept text is cut to this many bytes.
inline constexpr std::size_t max_csp_field_bytes = 200;

struct csp_violation {
  /// The directive that refused (effective-directive), lower case: one of
  /// the policy directives CSP 3 defines, or "other" for anything else (it
  /// is a metric label, so the set must stay small).
  std::string directive;
  /// What was refused: a keyword the browser uses ("inline", "eval",
  /// "data", ...) or a URL as scheme://host/path without query or fragment.
  std::string blocked;
  /// The page it happened on: its path only.
  std::string document;
  /// The script that tried it, as `blocked` (empty when not given).
  std::string source;
  std::uint32_t line = 0;
  /// false when the policy only reports (Content-Security-Policy-Report-Only).
  bool enforced = true;
};

struct csp_reports {
  std::vector<csp_violation> violations;
  /// Entries that were not CSP violations (other report types, no
  /// directive, past max_csp_reports_per_body).
  std::size_t ignored = 0;
};

/// The violations in `body`, or why it is not a report (for a 400).
std::variant<csp_reports, std::string> parse_csp_reports(std::string_view body);

/// `text` as kept from a report: a URL without its query and fragment,
/// printable ASCII (any other byte percent-encoded), at most
/// max_csp_field_bytes. Keeping it again changes nothing.
std::string csp_report_text(std::string_view text);

/// A page address reduced to its path ("https://shop.example/cart?x=1" ->
/// "/cart"), as csp_report_text.
std::string csp_report_path(std::string_view url);

} // namespace emporium::http
