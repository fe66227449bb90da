// The body of POST /api/csp-reports, which any browser (or anyone) sends:
// read into violations or refused with a reason, never an exception. What
// is kept goes into a log line and a metric label, so it must stay bounded:
// at most max_csp_reports_per_body violations, each text printable ASCII
// without a query or fragment, at most max_csp_field_bytes and unchanged
// if kept again, the directive one of a small set of labels.
#include "tests/fuzz/fuzz_check.hpp"
#include "http/csp_report.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

using emporium::fuzz::check;
using namespace emporium::http;

namespace {

bool kept_text(const std::string& text) {
  if (text.size() > max_csp_field_bytes || text.find_first_of("?#") != std::string::npos)
    return false;
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f)
      return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  auto parsed = parse_csp_reports(body);
  if (auto why = std::get_if<std::string>(&parsed)) {
    check(!why->empty());
    return 0;
  }
  static std::set<std::string> labels;
  const auto& reports = std::get<csp_reports>(parsed);
  check(reports.violations.size() <= max_csp_reports_per_body);
  for (const auto& v : reports.violations) {
    check(!v.directive.empty() && kept_text(v.directive));
    labels.insert(v.directive);
    check(labels.size() <= 25); // 24 directives and "other"
    for (const auto* text : {&v.blocked, &v.source, &v.document})
      check(kept_text(*text) && csp_report_text(*text) == *text); // kept once and for all
  }
  return 0;
}
